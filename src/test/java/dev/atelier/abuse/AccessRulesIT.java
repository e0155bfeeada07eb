package dev.atelier.abuse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.security.AgentTokens;
import dev.atelier.support.ApiClient;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Who may do what, the caps, and what is audited besides the lifecycle (issue #13, items 3 to 5). */
class AccessRulesIT extends AbuseContext {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    AgentTokens agentTokens;

    private String localTemplate(String name, Map<String, String> env) {
        ApiClient.Response created = admin.post("/api/v1/templates", Map.of("name", name, "provider", "local",
                "spec", Map.of("startupScript", "exec sleep 300", "env", env),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.01", "currency", "EUR")));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        return created.json().get("id").asText();
    }

    @Test
    void templateSecretsShowOnlyToAdminsAgentsReadNoTemplatesAndMembersUseOnlyReleasedVersions() {
        String template = localTemplate("secretive", Map.of("API_KEY", "s3cr3t-value"));
        ApiClient member = clientFor("rules-member", "member");
        ApiClient templateAdmin = clientFor("rules-tadmin", "template-admin");

        JsonNode seen = member.get("/api/v1/templates/" + template).json();
        assertThat(seen.at("/spec/env/API_KEY").asText()).isEqualTo("********");
        assertThat(member.get("/api/v1/templates").body()).contains("API_KEY").doesNotContain("s3cr3t-value");
        assertThat(templateAdmin.get("/api/v1/templates/" + template).json().at("/spec/env/API_KEY").asText())
                .isEqualTo("s3cr3t-value");
        ApiClient agent = client(agentTokens.issue("00000000-0000-0000-0000-000000000000", 1));
        assertThat(agent.get("/api/v1/templates").status()).isEqualTo(403);
        assertThat(agent.get("/api/v1/templates/" + template).status()).isEqualTo(403);

        // Version 2 is published without activation: only owners and template admins may use it.
        ApiClient.Response v2 = admin.post("/api/v1/templates/" + template + "/versions", Map.of("provider", "local",
                "spec", Map.of("startupScript", "exec sleep 300"), "activate", false));
        assertThat(v2.status()).as("%s", v2).isEqualTo(201);
        long before = count("rules-member");
        ApiClient.Response refused = member.post("/api/v1/workspaces", Map.of("name", "on-draft",
                "templateId", template, "templateVersion", 2));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().get("detail").asText()).contains("without being activated");
        assertThat(count("rules-member")).isEqualTo(before);
        ApiClient.Response onActive = member.post("/api/v1/workspaces", Map.of("name", "on-active", "templateId", template));
        assertThat(onActive.status()).isEqualTo(202);
        String ws = onActive.json().get("id").asText();
        member.awaitStatus(ws, "RUNNING");
        assertThat(member.post("/api/v1/workspaces/" + ws + "/update", Map.of("templateVersion", 2)).status())
                .isEqualTo(403);
        // An owner may try out the unreleased version.
        ApiClient.Response tried = admin.post("/api/v1/workspaces", Map.of("name", "admin-on-draft",
                "templateId", template, "templateVersion", 2));
        assertThat(tried.status()).as("%s", tried).isEqualTo(202);
        admin.delete("/api/v1/workspaces/" + tried.json().get("id").asText());
        // Once activated, version 2 is released for everybody.
        assertThat(admin.post("/api/v1/templates/" + template + "/active-version", Map.of("version", 2)).status())
                .isEqualTo(200);
        assertThat(member.post("/api/v1/workspaces/" + ws + "/update", Map.of("templateVersion", 2)).status())
                .isEqualTo(202);
        // Archived: members cannot create on it or update onto it.
        assertThat(admin.post("/api/v1/templates/" + template + "/archive", Map.of()).status()).isEqualTo(200);
        assertThat(member.post("/api/v1/workspaces", Map.of("name", "on-archived", "templateId", template)).status())
                .isEqualTo(409);
        assertThat(member.post("/api/v1/workspaces/" + ws + "/update", Map.of()).status()).isEqualTo(409);
        assertThat(count("rules-member")).isEqualTo(before + 1);
        member.delete("/api/v1/workspaces/" + ws);
    }

    @Test
    void capsAnswer429Or400AndActivityOnSomebodyElsesWorkspaceIsDenied() throws Exception {
        String template = localTemplate("capped", Map.of());
        ApiClient owner = clientFor("cap-owner", "member");
        ApiClient other = clientFor("cap-other", "member");
        String ws = owner.post("/api/v1/workspaces", Map.of("name", "capped-ws", "templateId", template)).json()
                .get("id").asText();
        owner.awaitStatus(ws, "RUNNING");

        // extend: an absurd duration or time is a 400, not a 500.
        for (Object body : List.of(Map.of("duration", "PT999999999999H"), Map.of("duration", "P36500D"),
                Map.of("until", "+999999999-12-31T23:59:59Z"), Map.of("duration", "-PT1H"))) {
            ApiClient.Response r = owner.post("/api/v1/workspaces/" + ws + "/extend", body);
            assertThat(r.status()).as("%s -> %s", body, r).isEqualTo(400);
        }

        // Activity posted to somebody else's workspace: the 404 of a missing one, recorded as denied.
        ApiClient.Response foreign = other.post("/api/v1/workspaces/" + ws + "/activity",
                Map.of("source", "ssh", "connections", 1));
        assertThat(foreign.status()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("""
                SELECT count(*) FROM audit_entry WHERE actor_id = 'cap-other' AND action = 'activity'
                AND resource_id = ? AND outcome = 'denied'""", Long.class, ws) == 1);
        // The entry records which token acted (its id, not its secret).
        String tokenId = jdbc.queryForObject("SELECT token_id FROM audit_entry WHERE actor_id = 'cap-other' AND "
                + "action = 'activity'", String.class);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM api_token WHERE id::text = ? AND subject = 'cap-other'",
                Long.class, tokenId)).isEqualTo(1);

        // Live streams: at most 8 per principal; the 9th is a 429, and closing one frees a place.
        List<reactor.core.Disposable> streams = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            CountDownLatch subscribed = new CountDownLatch(1);
            streams.add(owner.watch("/api/v1/workspaces/watch", subscribed).subscribe());
            assertThat(subscribed.await(10, TimeUnit.SECONDS)).isTrue();
        }
        ApiClient.Response ninth = owner.get("/api/v1/workspaces/" + ws + "/watch");
        assertThat(ninth.status()).isEqualTo(429);
        assertThat(ninth.body()).contains("atelier.limits.live-streams-per-principal");
        streams.remove(0).dispose();
        CountDownLatch again = new CountDownLatch(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            reactor.core.Disposable d = owner.watch("/api/v1/workspaces/watch", again).subscribe();
            if (again.await(2, TimeUnit.SECONDS)) {
                streams.add(d);
                return true;
            }
            d.dispose();
            return false;
        });
        streams.forEach(reactor.core.Disposable::dispose);
        owner.delete("/api/v1/workspaces/" + ws);
    }

    @Test
    void costRebuildsAndSshHostChangesIncludingAChangedHostKeyAreAudited() {
        assertThat(admin.post("/api/v1/costs/rebuild", Map.of()).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE action = 'rebuild' AND resource_type = 'costs'", Long.class) >= 1);

        TestInfra.SshHost sshd = TestInfra.sshd();
        Map<String, Object> host = new LinkedHashMap<>(Map.of("name", "audited-host", "address", sshd.address(),
                "port", sshd.port(), "user", sshd.user(), "keyRef", sshd.keyRef(),
                "hostKeyFingerprint", sshd.fingerprint(), "capacity", 1));
        ApiClient.Response created = admin.post("/api/v1/hosts", host);
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String id = created.json().get("id").asText();
        String otherKey = "SHA256:" + "A".repeat(43);
        host.put("hostKeyFingerprint", otherKey);
        assertThat(admin.exchange("PUT", "/api/v1/hosts/" + id, host).status()).isEqualTo(200);
        assertThat(admin.post("/api/v1/hosts/" + id + "/check", Map.of()).json().get("ok").asBoolean()).isFalse();
        assertThat(admin.delete("/api/v1/hosts/" + id).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE resource_type = 'ssh-host' AND resource_id = ?", Long.class, id) == 4);
        List<Map<String, Object>> entries = jdbc.queryForList("""
                SELECT action, outcome, details, actor_id FROM audit_entry WHERE resource_type = 'ssh-host' AND resource_id = ?
                ORDER BY seq""", id);
        assertThat(entries).extracting(e -> e.get("action")).containsExactly("create", "update", "check", "delete");
        assertThat(entries).extracting(e -> e.get("actor_id")).containsOnly("admin");
        assertThat((String) entries.get(1).get("details")).contains("\"hostFingerprintChanged\":\"true\"")
                .contains(sshd.fingerprint()).contains(otherKey);
        assertThat(entries.get(2).get("outcome")).isEqualTo("failure");
    }

    @Test
    void aMemberAtTheWorkspaceCapGetsA429AndNothingIsCreated() {
        String template = localTemplate("per-member-cap", Map.of());
        ApiClient member = clientFor("cap-full", "member");
        // The member already has 49 workspaces on the list the cap counts (rows of the workspace read model, which
        // is what the engine reads); deleted ones do not count.
        for (int i = 0; i < 50; i++) {
            jdbc.update("""
                    INSERT INTO workspace_view (id, name, owner, kind, template_id, template_version, provider, status,
                        build_number, labels, created_at, updated_at)
                    VALUES (?, ?, 'cap-full', 'HUMAN', ?, 1, 'local', ?, 1, '{}'::jsonb, now(), now())""",
                    "seeded-cap-" + i, "seeded-" + i, template, i < 49 ? "STOPPED" : "DELETED");
        }
        try {
            ApiClient.Response fiftieth = member.post("/api/v1/workspaces", Map.of("name", "fiftieth", "templateId", template));
            assertThat(fiftieth.status()).as("%s", fiftieth).isEqualTo(202);
            String ws = fiftieth.json().get("id").asText();
            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                    "SELECT count(*) FROM workspace_view WHERE owner = 'cap-full' AND status <> 'DELETED'", Long.class) == 50);
            long created = count("cap-full");

            ApiClient.Response refused = member.post("/api/v1/workspaces", Map.of("name", "fifty-first", "templateId", template));
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.json().get("detail").asText()).contains("atelier.limits.workspaces-per-member: 50")
                    .contains("already has 50 workspaces");
            assertThat(count("cap-full")).as("no workspace was created").isEqualTo(created);
            assertThat(jdbc.queryForObject("SELECT count(*) FROM workspace_view WHERE owner = 'cap-full' AND name = "
                    + "'fifty-first'", Long.class)).isZero();

            // Deleting one frees a place.
            member.delete("/api/v1/workspaces/" + ws);
            member.awaitStatus(ws, "DELETED");
            ApiClient.Response again = member.post("/api/v1/workspaces", Map.of("name", "fifty-first", "templateId", template));
            assertThat(again.status()).as("%s", again).isEqualTo(202);
            member.delete("/api/v1/workspaces/" + again.json().get("id").asText());
        } finally {
            jdbc.update("DELETE FROM workspace_view WHERE id LIKE 'seeded-cap-%'");
        }
    }

    private long count(String owner) {
        return jdbc.queryForObject("SELECT count(*) FROM domainevententry WHERE payloadtype LIKE '%WorkspaceCreatedEvent' "
                + "AND convert_from(payload, 'UTF8') LIKE ?", Long.class, "%\"owner\":\"" + owner + "\"%");
    }
}
