package dev.atelier.abuse;

import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.support.EngineIntegrationTest;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.TestPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The engine as a hostile client meets it (one Spring context for the abuse tests): the loopback peer is a trusted
 * proxy, so that each test can speak for client addresses of its own with X-Forwarded-For; anonymous denials are
 * aggregated every 2 s instead of every minute; an event is parked after 2 attempts; and two handlers, in the
 * {@code workspaces} and {@code audit} processing groups, throw for the workspace named {@link Poison#name} while
 * it is set (a test-only poison).
 */
@Import(AbuseContext.PoisonHandlers.class)
@TestPropertySource(properties = {
        "atelier.security.trusted-proxies=127.0.0.1,::1",
        "atelier.security.auth-failure-audit-interval=PT2S",
        "atelier.dead-letters.attempts=2",
})
abstract class AbuseContext extends EngineIntegrationTest {

    /** The workspace name the test handlers fail for, or null. */
    static final class Poison {
        static volatile String name;
    }

    @TestConfiguration
    static class PoisonHandlers {
        @Bean
        PoisonedWorkspaces poisonedWorkspaces() {
            return new PoisonedWorkspaces();
        }

        @Bean
        PoisonedAudit poisonedAudit() {
            return new PoisonedAudit();
        }
    }

    @ProcessingGroup("workspaces")
    static class PoisonedWorkspaces {
        @EventHandler
        void on(WorkspaceCreatedEvent event) {
            if (event.name().equals(Poison.name)) {
                throw new IllegalStateException("test poison: workspace " + event.name());
            }
        }
    }

    @ProcessingGroup("audit")
    static class PoisonedAudit {
        @EventHandler
        void on(WorkspaceCreatedEvent event) {
            if (event.name().equals(Poison.name)) {
                throw new IllegalStateException("test poison: workspace " + event.name());
            }
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A request exactly as given (raw query, any header), as a hostile client sends it. */
    record Raw(int status, String body, java.net.http.HttpHeaders headers) {
    }

    Raw raw(String method, String rawPathAndQuery, String token, String forwardedFor, String jsonBody) {
        return raw(method, rawPathAndQuery, token, forwardedFor, jsonBody, Duration.ofSeconds(30));
    }

    /** @return status -1 when no answer came within {@code timeout} (a live stream that was opened) */
    Raw raw(String method, String rawPathAndQuery, String token, String forwardedFor, String jsonBody,
            Duration timeout) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + rawPathAndQuery))
                    .timeout(timeout)
                    .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(jsonBody));
            if (jsonBody != null) {
                request.header("Content-Type", "application/json");
            }
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            if (forwardedFor != null) {
                request.header("X-Forwarded-For", forwardedFor);
            }
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Raw(response.statusCode(), response.body(), response.headers());
        } catch (java.net.http.HttpTimeoutException e) {
            return new Raw(-1, "", null);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
