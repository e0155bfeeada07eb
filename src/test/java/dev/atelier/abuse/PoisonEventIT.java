package dev.atelier.abuse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.audit.AuditRecorder;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.workspace.CreateWorkspaceCommand;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceKind;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.support.ApiClient;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A poison cannot stop a read model: the reported attack first (a NUL in a query parameter stopped the audit
 * projection for good), the defence behind the boundary, then a handler that throws for one event.
 */
class PoisonEventIT extends AbuseContext {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    CommandGateway commands;
    @Autowired
    AuditRecorder recorder;

    @AfterEach
    void noPoison() {
        Poison.name = null;
    }

    @Test
    void aNulInAQueryParameterIsA400ThatNamesTheFieldAndTheTrailGoesOn() {
        ApiClient member = clientFor("nul-member", "member");
        String memberToken = issueToken("nul-agent-like", "member");
        long before = headSeq();

        Raw answer = raw("GET", "/api/v1/workspaces?status=%00", memberToken, null, null);

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body()).contains("status").contains("U+0000").doesNotContain("\\u0000").doesNotContain("\u0000");
        // The same through a JSON body (team, label) and a path variable.
        Raw body = raw("POST", "/api/v1/workspaces", memberToken, null,
                "{\"name\":\"nul-team\",\"templateId\":\"x\",\"team\":\"a\\u0000b\"}");
        assertThat(body.status()).isEqualTo(400);
        assertThat(body.body()).contains("team").doesNotContain("\u0000");
        Raw label = raw("POST", "/api/v1/workspaces", memberToken, null,
                "{\"name\":\"nul-label\",\"templateId\":\"x\",\"labels\":{\"k\":\"\\ud800\"}}");
        assertThat(label.status()).isEqualTo(400);
        assertThat(label.body()).contains("labels.k").contains("surrogate");
        assertThat(raw("GET", "/api/v1/workspaces/a%00b", memberToken, null, null).status()).isEqualTo(400);

        // Every refusal is chained, and whatever comes after too.
        String template = createLocalTemplate("after-nul", "exec sleep 300");
        awaitCaughtUp();
        assertThat(headSeq()).isGreaterThanOrEqualTo(before + 5);
        List<String> errors = jdbc.queryForList("SELECT error FROM audit_entry WHERE seq > ? AND status_code = 400",
                String.class, before);
        assertThat(errors).hasSizeGreaterThanOrEqualTo(4).allSatisfy(e -> assertThat(e).doesNotContain("\u0000"));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_entry WHERE resource_id = ?", Long.class, template))
                .isPositive();
        JsonNode verify = admin.get("/api/v1/audit/verify").json();
        assertThat(verify.get("valid").asBoolean()).isTrue();
        assertThat(member.get("/api/v1/workspaces").status()).isEqualTo(200);
    }

    @Test
    void behindTheBoundaryTheAggregateRefusesAndTheTrailStoresWhatIsAlreadyInTheStore() {
        String template = createLocalTemplate("defence-in-depth", "exec sleep 300");
        String id = UUID.randomUUID().toString();
        assertThatThrownBy(() -> commands.sendAndWait(new CreateWorkspaceCommand(id, "deep", "alice", "t\u0000eam",
                WorkspaceKind.HUMAN, template, null, Map.of(), Map.of("k", "v"), null, TransitionReason.USER,
                new Actor("alice", Actor.ActorType.USER))))
                .isInstanceOf(DomainRuleViolation.class).hasMessageContaining("team").hasMessageContaining("U+0000");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM domainevententry WHERE aggregateidentifier = ?",
                Long.class, id)).isZero();

        // An event that holds a NUL (written before the API refused them, or by any other path) is chained.
        String marker = "old-" + UUID.randomUUID();
        recorder.record(new AuditRecordedEvent("read", AuditEntry.REQUESTED, "workspace", marker, AuditEntry.FAILURE,
                400, "status '\u0000' is unknown", Map.of("path", "/api/v1/workspaces?status=\u0000")), Map.of(
                "actorId", "mallory", "actorType", "API_TOKEN", "requestId", "r-" + marker));
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE resource_id = ?", Long.class, marker) == 1);
        assertThat(jdbc.queryForObject("SELECT error FROM audit_entry WHERE resource_id = ?", String.class, marker))
                .isEqualTo("status '\uFFFD' is unknown");
        assertThat(admin.get("/api/v1/audit/verify").json().get("valid").asBoolean()).isTrue();
    }

    @Test
    void anEventThatKeepsFailingIsParkedOthersFlowOnAndARetryAfterTheFixProjectsIt() {
        String template = createLocalTemplate("poison-template", "exec sleep 300");
        Poison.name = "poisoned";
        String poisoned = created(admin.post("/api/v1/workspaces", Map.of("name", "poisoned", "templateId", template)));

        // Parked in both groups (after 2 attempts), with the cause.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                letters("audit", poisoned).size() >= 1 && letters("workspaces", poisoned).size() >= 1);
        JsonNode listing = admin.get("/api/v1/dead-letters").json();
        JsonNode parked = find(listing.get("deadLetters"), "audit", poisoned);
        assertThat(parked.get("eventType").asText()).endsWith("WorkspaceCreatedEvent");
        assertThat(parked.get("causeMessage").asText()).contains("test poison");
        assertThat(parked.get("causeType").asText()).isEqualTo(IllegalStateException.class.getName());
        assertThat(listing.get("counts").get("audit").asLong()).isPositive();

        // Later events of other workspaces are projected and chained.
        String healthy = created(admin.post("/api/v1/workspaces", Map.of("name", "healthy", "templateId", template)));
        admin.awaitStatus(healthy, "RUNNING");
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE resource_id = ? AND action = 'create'", Long.class, healthy) == 1);
        assertThat(admin.get("/api/v1/workspaces/" + poisoned).status()).isEqualTo(404);

        // The audit trail shows the gap; health and metrics count the letters; the node stays ready.
        long createdIndex = jdbc.queryForObject("""
                SELECT globalindex FROM domainevententry WHERE aggregateidentifier = ? AND payloadtype LIKE '%WorkspaceCreatedEvent'""",
                Long.class, poisoned);
        JsonNode status = admin.get("/api/v1/audit/status").json();
        assertThat(status.get("complete").asBoolean()).isFalse();
        assertThat(indexes(status.get("gaps"))).contains(createdIndex);
        JsonNode verify = admin.get("/api/v1/audit/verify").json();
        assertThat(verify.get("valid").asBoolean()).isTrue();
        assertThat(verify.get("complete").asBoolean()).isFalse();
        assertThat(indexes(verify.get("gaps"))).contains(createdIndex);
        JsonNode health = client(null).get("/actuator/health").json();
        assertThat(health.get("status").asText()).isEqualTo("UP");
        assertThat(health.at("/components/deadLetters/details/groups/audit").asLong()).isPositive();
        assertThat(client(null).get("/actuator/health/readiness").json().get("status").asText()).isEqualTo("UP");
        assertThat(client(null).get("/actuator/prometheus").body()).containsPattern("atelier_dead_letters\\{group=\"audit\"\\} [1-9]");
        // Nobody but an owner sees or touches the letters.
        ApiClient member = clientFor("letters-member", "member");
        assertThat(member.get("/api/v1/dead-letters").status()).isEqualTo(403);
        assertThat(member.post("/api/v1/dead-letters/" + parked.get("id").asText() + "/retry", Map.of()).status())
                .isEqualTo(403);
        assertThat(letters("audit", poisoned)).isNotEmpty();

        // A retry while it still fails keeps it parked (with the cause); after the fix it is projected and chained.
        JsonNode failedRetry = admin.post("/api/v1/dead-letters/" + parked.get("id").asText() + "/retry", Map.of()).json();
        assertThat(failedRetry.get("handled").asBoolean()).isFalse();
        assertThat(letters("audit", poisoned)).isNotEmpty();
        Poison.name = null;
        for (String group : List.of("workspaces", "audit")) {
            String head = letters(group, poisoned).get(0);
            JsonNode retried = admin.post("/api/v1/dead-letters/" + head + "/retry", Map.of()).json();
            assertThat(retried.get("handled").asBoolean()).as("retry of %s", group).isTrue();
            assertThat(letters(group, poisoned)).isEmpty();
        }
        assertThat(admin.get("/api/v1/workspaces/" + poisoned).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE resource_id = ? AND action = 'create'", Long.class, poisoned) == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.get("/api/v1/audit/status").json().get("complete").asBoolean());
        JsonNode after = admin.get("/api/v1/audit/verify").json();
        assertThat(after.get("valid").asBoolean()).isTrue();
        assertThat(after.get("complete").asBoolean()).isTrue();
        // Each dead-letter action is on record.
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE resource_type = 'dead-letter' AND action = 'retry'", Long.class) >= 3);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_entry WHERE resource_type = 'dead-letter' AND "
                + "action = 'retry' AND outcome = 'failure'", Long.class)).isGreaterThanOrEqualTo(1);
        admin.delete("/api/v1/workspaces/" + poisoned);
        admin.delete("/api/v1/workspaces/" + healthy);
    }

    @Test
    void anEvictedAuditLetterStaysAVisibleGap() {
        String template = createLocalTemplate("evict-template", "exec sleep 300");
        Poison.name = "evicted";
        String evicted = created(admin.post("/api/v1/workspaces", Map.of("name", "evicted", "templateId", template)));
        await().atMost(Duration.ofSeconds(60)).until(() -> letters("audit", evicted).size() >= 1);
        Poison.name = null;
        String head = letters("audit", evicted).get(0);
        assertThat(admin.delete("/api/v1/dead-letters/" + head).status()).isEqualTo(204);
        assertThat(admin.delete("/api/v1/dead-letters/" + head).status()).isEqualTo(404);
        JsonNode gaps = admin.get("/api/v1/audit/status").json().get("gaps");
        String eventId = jdbc.queryForObject("""
                SELECT eventidentifier FROM domainevententry WHERE aggregateidentifier = ? AND payloadtype LIKE '%WorkspaceCreatedEvent'""",
                String.class, evicted);
        boolean found = false;
        for (JsonNode gap : gaps) {
            if (gap.get("eventId").asText().equals(eventId)) {
                found = true;
                assertThat(gap.get("parked").asBoolean()).isFalse();
            }
        }
        assertThat(found).as("gap of the evicted event in %s", gaps).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE resource_type = 'dead-letter' AND action = 'evict' AND resource_id = ?",
                Long.class, head) == 1);
        // Retry what is left of the sequence, so that the other tests see a clean trail.
        for (String letter : letters("audit", evicted)) {
            admin.post("/api/v1/dead-letters/" + letter + "/retry", Map.of());
        }
        for (String letter : letters("workspaces", evicted)) {
            admin.post("/api/v1/dead-letters/" + letter + "/retry", Map.of());
        }
        admin.delete("/api/v1/workspaces/" + evicted);
    }

    private List<String> letters(String group, String aggregateId) {
        return jdbc.queryForList("""
                SELECT deadletteridentifier FROM deadletterentry WHERE processinggroup = ? AND aggregateidentifier = ?
                ORDER BY sequenceindex""", String.class, group, aggregateId);
    }

    private static JsonNode find(JsonNode letters, String group, String aggregateId) {
        for (JsonNode letter : letters) {
            if (letter.get("group").asText().equals(group) && aggregateId.equals(letter.path("aggregateId").asText())) {
                return letter;
            }
        }
        throw new AssertionError("no letter of " + aggregateId + " in " + group + ": " + letters);
    }

    private static List<Long> indexes(JsonNode gaps) {
        List<Long> out = new ArrayList<>();
        gaps.forEach(g -> out.add(g.get("eventIndex").asLong()));
        return out;
    }

    private static String created(ApiClient.Response response) {
        assertThat(response.status()).as("%s", response).isEqualTo(202);
        return response.json().get("id").asText();
    }

    private String issueToken(String subject, String role) {
        ApiClient.Response issued = admin.post("/api/v1/tokens", Map.of("name", subject, "subject", subject,
                "roles", List.of(role)));
        assertThat(issued.status()).isEqualTo(201);
        return issued.json().get("token").asText();
    }

    private long headSeq() {
        return jdbc.queryForObject("SELECT last_seq FROM audit_chain WHERE id = 1", Long.class);
    }

    private void awaitCaughtUp() {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> admin.get("/api/v1/audit/status").json().get("caughtUp").asBoolean());
    }
}
