package dev.atelier.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/** A small HTTP client for the engine's API, as a frontend or CLI would use it. */
public final class ApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final WebClient web;

    public ApiClient(String baseUrl, String token) {
        WebClient.Builder builder = WebClient.builder().baseUrl(baseUrl)
                .codecs(c -> c.defaultCodecs().maxInMemorySize(4 * 1024 * 1024));
        if (token != null) {
            builder.defaultHeader("Authorization", "Bearer " + token);
        }
        this.web = builder.build();
    }

    public Response get(String path) {
        return exchange("GET", path, null);
    }

    public Response post(String path, Object body) {
        return exchange("POST", path, body);
    }

    public Response delete(String path) {
        return exchange("DELETE", path, null);
    }

    public Response exchange(String method, String path, Object body) {
        var spec = web.method(org.springframework.http.HttpMethod.valueOf(method)).uri(path)
                .header("X-Request-Id", "test-" + System.nanoTime());
        if (body != null) {
            spec.contentType(MediaType.APPLICATION_JSON).bodyValue(body instanceof String s ? s : toJson(body));
        }
        return spec.exchangeToMono(r -> r.bodyToMono(String.class).defaultIfEmpty("")
                        .map(text -> new Response(r.statusCode().value(),
                                r.headers().contentType().map(MediaType::toString).orElse(""), text,
                                r.headers().asHttpHeaders())))
                .block(Duration.ofSeconds(30));
    }

    public Flux<ServerSentEvent<JsonNode>> watch(String path) {
        return watch(path, new java.util.concurrent.CountDownLatch(1));
    }

    /** Server-sent events with data; {@code subscribed} completes when the server confirmed the subscription. */
    public Flux<ServerSentEvent<JsonNode>> watch(String path, java.util.concurrent.CountDownLatch subscribed) {
        return web.get().uri(path).accept(MediaType.TEXT_EVENT_STREAM).retrieve()
                .bodyToFlux(new ParameterizedTypeReference<ServerSentEvent<JsonNode>>() {
                })
                .doOnNext(e -> {
                    if ("subscribed".equals(e.comment())) {
                        subscribed.countDown();
                    }
                })
                .filter(e -> e.data() != null);
    }

    /** Polls the read model until the workspace has the status (only for tests that do not test SSE). */
    public JsonNode awaitStatus(String workspaceId, String status) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> status.equals(get("/api/v1/workspaces/" + workspaceId).json().path("status").asText()));
        return get("/api/v1/workspaces/" + workspaceId).json();
    }

    private static String toJson(Object body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    public record Response(int status, String contentType, String body, org.springframework.http.HttpHeaders headers) {

        public Response(int status, String contentType, String body) {
            this(status, contentType, body, new org.springframework.http.HttpHeaders());
        }

        /** The first value of a response header, or null. */
        public String header(String name) {
            return headers.getFirst(name);
        }

        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (Exception e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    public static Map<String, Object> localTemplate(String name, String script) {
        return Map.of("name", name, "provider", "local", "spec", Map.of("startupScript", script),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.01", "currency", "EUR"));
    }

}
