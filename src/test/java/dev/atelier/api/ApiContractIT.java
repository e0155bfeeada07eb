package dev.atelier.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Authentication, authorisation, validation and error shapes of the HTTP API. */
class ApiContractIT extends EngineIntegrationTest {

    @Test
    void everyApiCallNeedsAValidBearerToken() {
        ApiClient anonymous = client(null);
        for (String path : List.of("/api/v1/workspaces", "/api/v1/templates", "/api/v1/workspaces/x/history")) {
            ApiClient.Response response = anonymous.get(path);
            assertThat(response.status()).as(path).isEqualTo(401);
            assertThat(response.contentType()).startsWith("application/problem+json");
            assertThat(response.json().get("detail").asText()).contains("Bearer");
        }
        ApiClient.Response forged = client("atl_not-a-real-token").get("/api/v1/workspaces");
        assertThat(forged.status()).isEqualTo(401);
        assertThat(forged.json().get("detail").asText()).contains("not valid");
    }

    @Test
    void operationsEndpointsAreOpen() {
        ApiClient anonymous = client(null);
        assertThat(anonymous.get("/actuator/health").json().get("status").asText()).isEqualTo("UP");
        assertThat(anonymous.get("/actuator/prometheus").body()).contains("jvm_memory_used_bytes");
        JsonNode openApi = anonymous.get("/v3/api-docs").json();
        assertThat(openApi.get("paths").has("/api/v1/workspaces/{id}/start")).isTrue();
        assertThat(openApi.get("paths").has("/api/v1/templates")).isTrue();
    }

    @Test
    void revokedTokensStopWorking() {
        ApiClient.Response issued = admin.post("/api/v1/tokens", Map.of("name", "ci", "subject", "ci-bot",
                "roles", List.of("member")));
        ApiClient bot = client(issued.json().get("token").asText());
        assertThat(bot.get("/api/v1/workspaces").status()).isEqualTo(200);
        assertThat(admin.delete("/api/v1/tokens/" + issued.json().get("id").asText()).status()).isEqualTo(204);
        assertThat(bot.get("/api/v1/workspaces").status()).isEqualTo(401);
    }

    @Test
    void membersSeeAndChangeOnlyTheirOwnWorkspaces() {
        String templateId = createLocalTemplate("shared", "exec sleep 1000");
        ApiClient alice = clientFor("alice", "member");
        ApiClient bob = clientFor("bob", "member");
        String aliceWs = alice.post("/api/v1/workspaces", Map.of("name", "alice-ws", "templateId", templateId))
                .json().get("id").asText();
        alice.awaitStatus(aliceWs, "RUNNING");

        // To bob, alice's workspace does not exist: same answer as for an id nobody has.
        ApiClient.Response peek = bob.get("/api/v1/workspaces/" + aliceWs);
        ApiClient.Response missing = bob.get("/api/v1/workspaces/00000000-0000-0000-0000-000000000000");
        assertThat(peek.status()).isEqualTo(404);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(bob.post("/api/v1/workspaces/" + aliceWs + "/stop", null).status()).isEqualTo(404);
        assertThat(bob.delete("/api/v1/workspaces/" + aliceWs).status()).isEqualTo(404);
        assertThat(bob.get("/api/v1/workspaces").json().get("workspaces")).isEmpty();
        assertThat(bob.get("/api/v1/workspaces?owner=alice").status()).isEqualTo(403);
        assertThat(bob.post("/api/v1/workspaces", Map.of("name", "x", "templateId", templateId, "owner", "alice"))
                .status()).isEqualTo(403);
        // Members may not publish templates.
        ApiClient.Response template = bob.post("/api/v1/templates", ApiClient.localTemplate("bobs", "true"));
        assertThat(template.status()).isEqualTo(403);
        assertThat(template.json().get("detail").asText()).contains("template-admin");

        assertThat(alice.get("/api/v1/workspaces").json().get("workspaces")).hasSize(1);
        assertThat(admin.get("/api/v1/workspaces?owner=alice").json().get("workspaces")).hasSize(1);
        assertThat(alice.delete("/api/v1/workspaces/" + aliceWs).status()).isEqualTo(202);
        alice.awaitStatus(aliceWs, "DELETED");
    }

    @Test
    void illegalTransitionsAreRefusedWithAClearConflict() {
        String templateId = createLocalTemplate("conflicts", "exec sleep 1000");
        String id = admin.post("/api/v1/workspaces", Map.of("name", "conflicts", "templateId", templateId))
                .json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");
        ApiClient.Response start = admin.post("/api/v1/workspaces/" + id + "/start", null);
        assertThat(start.status()).isEqualTo(409);
        assertThat(start.contentType()).startsWith("application/problem+json");
        assertThat(start.json().get("detail").asText())
                .isEqualTo("cannot start workspace " + id + ": it is already RUNNING; start it when it is STOPPED or FAILED");
        admin.delete("/api/v1/workspaces/" + id);
        admin.awaitStatus(id, "DELETED");
        ApiClient.Response again = admin.delete("/api/v1/workspaces/" + id);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().get("detail").asText()).contains("already DELETED");
    }

    @Test
    void badInputIsRejectedWithADetailThatSaysWhatIsWrong() {
        ApiClient.Response unknownField = admin.post("/api/v1/templates", Map.of("name", "t1", "provider", "local",
                "policy", Map.of("idleTimout", "PT1H")));
        assertThat(unknownField.status()).isEqualTo(400);
        assertThat(unknownField.json().get("detail").asText()).contains("idleTimout");

        ApiClient.Response badSpec = admin.post("/api/v1/templates", Map.of("name", "t2", "provider", "local",
                "spec", Map.of("startupScript", "true", "imag", "x")));
        assertThat(badSpec.status()).isEqualTo(400);
        assertThat(badSpec.json().get("detail").asText()).contains("unknown key 'imag'");

        ApiClient.Response badProvider = admin.post("/api/v1/templates", Map.of("name", "t3", "provider", "vmware"));
        assertThat(badProvider.json().get("detail").asText()).contains("unknown provider 'vmware'").contains("local");

        ApiClient.Response badName = admin.post("/api/v1/templates", Map.of("name", "Not Valid", "provider", "local"));
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.json().get("detail").asText()).contains("template name 'Not Valid' is invalid");

        ApiClient.Response notJson = admin.post("/api/v1/templates", "{\"name\": ");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.contentType()).startsWith("application/problem+json");

        ApiClient.Response badKind = admin.post("/api/v1/workspaces", Map.of("name", "w", "templateId", "x", "kind", "ROBOT"));
        assertThat(badKind.status()).isEqualTo(400);
        assertThat(badKind.json().get("detail").asText()).contains("kind").contains("HUMAN");

        ApiClient.Response noTemplate = admin.post("/api/v1/workspaces", Map.of("name", "w", "templateId", "nope"));
        assertThat(noTemplate.status()).isEqualTo(400);
        assertThat(noTemplate.json().get("detail").asText()).isEqualTo("template nope does not exist");

        assertThat(admin.get("/api/v1/workspaces?status=SLEEPING").json().get("detail").asText())
                .contains("status 'SLEEPING' is unknown");
        assertThat(admin.get("/api/v1/workspaces?limit=0").status()).isEqualTo(400);
        assertThat(admin.get("/api/v1/workspaces?cursor=%%%").status()).isEqualTo(400);
    }

    @Test
    void parametersAreValidatedAgainstTheTemplateVersion() {
        Map<String, Object> template = Map.of("name", "params", "provider", "local",
                "spec", Map.of("startupScript", "exec sleep 1000"),
                "parameters", List.of(
                        Map.of("name", "region", "type", "STRING", "allowedValues", List.of("eu", "us"),
                                "defaultValue", "eu", "mutable", false),
                        Map.of("name", "cpus", "type", "NUMBER", "required", true, "mutable", true)));
        ApiClient.Response createdTemplate = admin.post("/api/v1/templates", template);
        assertThat(createdTemplate.status()).as(createdTemplate.body()).isEqualTo(201);
        String templateId = createdTemplate.json().get("id").asText();
        ApiClient.Response invalid = admin.post("/api/v1/workspaces", Map.of("name", "p", "templateId", templateId,
                "parameters", Map.of("region", "mars", "color", "red")));
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().get("detail").asText())
                .contains("unknown parameter 'color'")
                .contains("parameter 'region' must be one of [eu, us], was 'mars'")
                .contains("parameter 'cpus' is required");
        ApiClient.Response ok = admin.post("/api/v1/workspaces", Map.of("name", "p", "templateId", templateId,
                "parameters", Map.of("cpus", "2")));
        assertThat(ok.status()).isEqualTo(202);
        String id = ok.json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");
        JsonNode created = admin.get("/api/v1/workspaces/" + id + "/history").json().at("/events/0/data/parameters");
        assertThat(created.get("region").asText()).isEqualTo("eu");
        ApiClient.Response immutable = admin.post("/api/v1/workspaces/" + id + "/update",
                Map.of("parameters", Map.of("region", "us")));
        assertThat(immutable.status()).isEqualTo(400);
        assertThat(immutable.json().get("detail").asText()).contains("'region' is immutable");
    }

    @Test
    void updateMovesTheWorkspaceToTheNewTemplateVersionOnItsNextStart() {
        String templateId = createLocalTemplate("versions", "echo v1 > version.txt; exec sleep 1000");
        String id = admin.post("/api/v1/workspaces", Map.of("name", "versions", "templateId", templateId))
                .json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");
        ApiClient.Response v2 = admin.post("/api/v1/templates/" + templateId + "/versions", Map.of("provider", "local",
                "spec", Map.of("startupScript", "echo v2 > version.txt; exec sleep 1000")));
        assertThat(v2.status()).isEqualTo(201);
        assertThat(v2.json().get("version").asInt()).isEqualTo(2);
        assertThat(admin.post("/api/v1/workspaces/" + id + "/update", Map.of()).status()).isEqualTo(202);
        assertThat(admin.get("/api/v1/workspaces/" + id).json().get("templateVersion").asInt()).isEqualTo(1);
        admin.post("/api/v1/workspaces/" + id + "/stop", null);
        admin.awaitStatus(id, "STOPPED");
        admin.post("/api/v1/workspaces/" + id + "/start", null);
        JsonNode running = admin.awaitStatus(id, "RUNNING");
        assertThat(running.get("templateVersion").asInt()).isEqualTo(2);
        assertThat(running.get("buildNumber").asInt()).isEqualTo(3);
        assertThat(admin.get("/api/v1/templates/" + templateId).json().get("versions")).hasSize(2);
        admin.delete("/api/v1/workspaces/" + id);
        admin.awaitStatus(id, "DELETED");
    }

    @Test
    void theListFiltersAndPagesWithACursor() {
        String templateId = createLocalTemplate("paging", "exec sleep 1000");
        Set<String> ids = new HashSet<>();
        ensureTeam("paging-team");
        for (int i = 0; i < 5; i++) {
            ids.add(admin.post("/api/v1/workspaces", Map.of("name", "page-" + i, "templateId", templateId,
                    "team", "paging-team", "kind", "AGENT")).json().get("id").asText());
        }
        ids.forEach(id -> admin.awaitStatus(id, "RUNNING"));
        Set<String> seen = new HashSet<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonNode page = admin.get("/api/v1/workspaces?team=paging-team&kind=agent&limit=2"
                    + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.get("workspaces").forEach(w -> assertThat(seen.add(w.get("id").asText())).isTrue());
            cursor = page.path("nextCursor").isMissingNode() || page.get("nextCursor").isNull()
                    ? null : page.get("nextCursor").asText();
            pages++;
        } while (cursor != null);
        assertThat(seen).isEqualTo(ids);
        assertThat(pages).isEqualTo(3);
        assertThat(admin.get("/api/v1/workspaces?team=paging-team&status=STOPPED").json().get("workspaces")).isEmpty();
        assertThat(admin.get("/api/v1/workspaces?templateId=" + templateId + "&status=RUNNING")
                .json().get("workspaces")).hasSize(5);
        ids.forEach(id -> admin.delete("/api/v1/workspaces/" + id));
        ids.forEach(id -> admin.awaitStatus(id, "DELETED"));
    }
}
