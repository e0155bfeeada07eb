package dev.atelier.support;

import dev.atelier.config.DatabaseConfiguration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Path;

/**
 * Base of the integration tests: the real engine on a fresh PostgreSQL database (embedded, or external through
 * ATELIER_TEST_DB_URL) and a temporary data dir, shared by all subclasses through Spring's context cache; a subclass
 * that adds properties gets its own context and its own database.
 */
@AutoConfigureObservability
// The web application type inline too: Spring's test bootstrapper deduces it from the classpath (servlet, when Spring
// MVC is on it, as in an IDE that puts the authorization server's test dependencies there) and reads only inline
// properties, not application.yml.
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.main.web-application-type=reactive")
@Import(EngineIntegrationTest.FewIdleConnections.class)
public abstract class EngineIntegrationTest {

    /**
     * Spring keeps every test class's context (and its connection pool) open for reuse, all of them on the one test
     * PostgreSQL: at the engine's pool of 20 connections held idle, ten contexts used up the server's slots. A cached
     * context keeps 2 idle; the pool still grows to 20 under load.
     */
    @TestConfiguration(proxyBeanMethods = false)
    static class FewIdleConnections {
        @Bean
        DatabaseConfiguration.HikariConfigCustomizer fewIdleConnections() {
            return config -> config.setMinimumIdle(2);
        }
    }

    protected static final Path DATA = EngineTestSupport.tempDataDir();
    @DynamicPropertySource
    static void engine(DynamicPropertyRegistry registry) {
        // A fresh database per Spring context (this runs once per context): a subclass with properties of its own
        // gets a context of its own, and two live engines on one event store would carry out each other's transitions.
        TestDatabase.Database db = TestDatabase.create();
        EngineTestSupport.properties(db, DATA).forEach((k, v) -> registry.add(k, () -> v));
    }

    @LocalServerPort
    protected int port;
    protected ApiClient admin;

    @BeforeEach
    void adminClient() {
        admin = client(EngineTestSupport.ADMIN_TOKEN);
    }

    @AfterAll
    static void endLeftoverWorkspaceProcesses() {
        LocalWorkspaceCleanup.killAll(DATA);
    }

    protected ApiClient client(String token) {
        return new ApiClient("http://localhost:" + port, token);
    }

    /** Issues an API token for {@code subject} with the given roles, through the API. */
    protected ApiClient clientFor(String subject, String... roles) {
        ApiClient.Response issued = admin.post("/api/v1/tokens", java.util.Map.of("name", subject + "-token",
                "subject", subject, "roles", java.util.List.of(roles)));
        if (issued.status() != 201) {
            throw new AssertionError("token not issued: " + issued);
        }
        return client(issued.json().get("token").asText());
    }

    /** Makes sure a team exists (workspaces and budgets name real teams). */
    protected void ensureTeam(String name) {
        ApiClient.Response created = admin.post("/api/v1/teams", java.util.Map.of("name", name));
        if (created.status() != 201 && created.status() != 409) {
            throw new AssertionError("team not created: " + created);
        }
    }

    protected String createLocalTemplate(String name, String script) {
        ApiClient.Response created = admin.post("/api/v1/templates", ApiClient.localTemplate(name, script));
        if (created.status() != 201) {
            throw new AssertionError("template not created: " + created);
        }
        return created.json().get("id").asText();
    }
}
