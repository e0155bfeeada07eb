package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.EngineTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI against the real engine, run in-process with a temporary HOME: sign in with an API token, create a workspace
 * from a template with parameters and wait for it, stop, start, delete, logs, and the refusals of the API as
 * {@code error: <title>: <detail>} with their exit codes. (The OIDC device flow: DeviceLoginAuthorizationServerIT, against
 * a real authorization server; its edge cases against a fake provider in DeviceLoginTest.)
 */
class CliIT extends EngineIntegrationTest {

    @TempDir
    Path home;

    private String issueToken(String subject, String... roles) {
        ApiClient.Response issued = admin.post("/api/v1/tokens", Map.of("name", subject + "-cli", "subject", subject,
                "roles", List.of(roles)));
        assertThat(issued.status()).isEqualTo(201);
        return issued.json().get("token").asText();
    }

    private String url() {
        return "http://localhost:" + port;
    }

    @Test
    void aMemberSignsInCreatesWithParametersStopsStartsAndDeletesAWorkspaceAndSeesItsLog() throws Exception {
        String token = issueToken("cli-alice", "member");
        CliRun alice = new CliRun(home);

        CliRun.Result login = alice.runWithInput(token + "\n", "login", "--url", url(), "--token-stdin");
        assertThat(login.exitCode()).as(login.toString()).isZero();
        assertThat(login.out()).isEqualTo("Signed in to " + url() + " as cli-alice (roles: member)\n");
        assertThat(login.out() + login.err()).doesNotContain(token);
        Path credentials = home.resolve(".config/atelier/credentials");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(credentials))).isEqualTo("rw-------");
        String saved = Files.readString(credentials);

        // A token the engine refuses is not saved over the working one.
        CliRun.Result refused = alice.run("login", "--url", url(), "--token", "atl_not-a-token");
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(refused.err()).startsWith("error: ").doesNotContain("atl_not-a-token");
        assertThat(Files.readString(credentials)).isEqualTo(saved);

        admin.post("/api/v1/templates", Map.of("name", "cli-greeter", "provider", "local",
                "description", "says hello",
                "spec", Map.of("startupScript", "echo \"$ATELIER_PARAM_GREETING\" > greeting.txt; exec sleep 1000"),
                "parameters", List.of(Map.of("name", "greeting", "type", "STRING", "defaultValue", "hello",
                        "mutable", true, "description", "written to greeting.txt"))));

        CliRun.Result templates = alice.run("templates");
        assertThat(templates.exitCode()).isZero();
        assertThat(templates.out()).startsWith("NAME").contains("cli-greeter").contains("says hello");
        CliRun.Result template = alice.run("templates", "cli-greeter");
        assertThat(template.out()).contains("greeting   hello    written to greeting.txt");

        CliRun.Result created = alice.run("create", "cli-dev", "-t", "cli-greeter", "--param", "greeting=bonjour");
        assertThat(created.exitCode()).as(created.toString()).isZero();
        String id = created.out().trim();
        assertThat(created.err()).contains("RUNNING (").containsPattern("cli-dev RUNNING in [0-9.]+s");
        JsonNode view = admin.get("/api/v1/workspaces/" + id).json();
        assertThat(view.path("status").asText()).isEqualTo("RUNNING");
        assertThat(view.path("owner").asText()).isEqualTo("cli-alice");
        assertThat(admin.get("/api/v1/workspaces/" + id + "/history").json().at("/events/0/data/parameters/greeting")
                .asText()).isEqualTo("bonjour");

        CliRun.Result listed = alice.run("ls", "--json");
        assertThat(listed.exitCode()).isZero();
        JsonNode workspaces = EngineClient.JSON.readTree(listed.out()).path("workspaces");
        assertThat(workspaces).hasSize(1);
        assertThat(workspaces.get(0).path("name").asText()).isEqualTo("cli-dev");
        assertThat(alice.run("ls").out()).startsWith("NAME").contains("cli-dev").contains("RUNNING");

        // Starting a running workspace: the engine's 409 as one line and exit code 6; nothing changed.
        CliRun.Result again = alice.run("start", "cli-dev");
        assertThat(again.exitCode()).as(again.toString()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(again.err()).startsWith("error: Conflict: ");
        JsonNode after = admin.get("/api/v1/workspaces/" + id).json();
        assertThat(after.path("status").asText()).isEqualTo("RUNNING");
        assertThat(after.path("buildNumber").asLong()).isEqualTo(view.path("buildNumber").asLong());

        CliRun.Result stopped = alice.run("stop", "cli-dev");
        assertThat(stopped.exitCode()).as(stopped.toString()).isZero();
        assertThat(stopped.err()).containsPattern("cli-dev STOPPED in [0-9.]+s");
        assertThat(admin.get("/api/v1/workspaces/" + id).json().path("status").asText()).isEqualTo("STOPPED");

        CliRun.Result started = alice.run("start", "cli-dev", "--json");
        assertThat(started.exitCode()).as(started.toString()).isZero();
        assertThat(EngineClient.JSON.readTree(started.out()).path("status").asText()).isEqualTo("RUNNING");

        CliRun.Result logs = alice.run("logs", "cli-dev");
        assertThat(logs.exitCode()).isZero();
        assertThat(logs.out()).startsWith("TIME").contains("cli-alice");
        JsonNode history = EngineClient.JSON.readTree(alice.run("logs", "cli-dev", "--json").out()).path("events");
        assertThat(history.size()).isGreaterThanOrEqualTo(6);

        CliRun.Result deleted = alice.run("delete", id);
        assertThat(deleted.exitCode()).as(deleted.toString()).isZero();
        assertThat(admin.get("/api/v1/workspaces/" + id).json().path("status").asText()).isEqualTo("DELETED");
        assertThat(alice.run("ls", "--json").out()).doesNotContain("cli-dev");

        CliRun.Result missing = alice.run("stop", "cli-dev");
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(missing.err()).startsWith("error: no workspace cli-dev");
        CliRun.Result unknownId = alice.run("stop", "00000000-0000-0000-0000-000000000000");
        assertThat(unknownId.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(unknownId.err()).startsWith("error: Not Found: ");
    }

    @Test
    void auditAndCostsAreForTheirRolesAndReadableAsTablesAndJson() throws Exception {
        String token = issueToken("cli-bob", "member");
        CliRun bob = new CliRun(home).env("ATELIER_URL", url()).env("ATELIER_TOKEN", token);
        CliRun.Result audit = bob.run("audit");
        assertThat(audit.exitCode()).as(audit.toString()).isEqualTo(ExitCodes.FORBIDDEN);
        assertThat(audit.err()).startsWith("error: Forbidden: ");
        assertThat(bob.run("costs").exitCode()).isEqualTo(ExitCodes.FORBIDDEN);

        CliRun owner = new CliRun(home).env("ATELIER_URL", url()).env("ATELIER_TOKEN", EngineTestSupport.ADMIN_TOKEN);
        CliRun.Result entries = owner.run("audit", "--actor", "cli-bob", "--json");
        assertThat(entries.exitCode()).as(entries.toString()).isZero();
        JsonNode page = EngineClient.JSON.readTree(entries.out());
        assertThat(page.path("entries")).isNotEmpty();
        page.path("entries").forEach(e -> assertThat(e.path("actorId").asText()).isEqualTo("cli-bob"));
        assertThat(owner.run("audit", "--limit", "5").out()).startsWith("TIME").contains("ACTION");

        CliRun.Result costs = owner.run("costs", "--group-by", "owner", "--json");
        assertThat(costs.exitCode()).as(costs.toString()).isZero();
        assertThat(EngineClient.JSON.readTree(costs.out()).path("groupBy").asText()).isEqualTo("owner");
        assertThat(owner.run("costs").out()).startsWith("TEAM");

        CliRun.Result invalid = owner.run("costs", "--group-by", "planet");
        assertThat(invalid.exitCode()).as(invalid.toString()).isEqualTo(ExitCodes.INVALID);
        assertThat(invalid.err()).startsWith("error: Bad Request: ");
    }
}
