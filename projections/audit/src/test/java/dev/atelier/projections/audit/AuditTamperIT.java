package dev.atelier.projections.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static dev.atelier.projections.audit.AuditTestSupport.awaitCaughtUp;
import static dev.atelier.projections.audit.AuditTestSupport.awaitEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tamper evidence: the table refuses changes; changes made anyway (a superuser session with the triggers off)
 * are found by verify at the first broken entry; a rebuild from the event store restores the very same chain;
 * a purge keeps a signed checkpoint from which the rest still verifies, also after another rebuild.
 */
class AuditTamperIT extends EngineIntegrationTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    DataSource dataSource;
    @Autowired
    EventProcessingConfiguration processing;

    @Test
    void tamperingIsFoundAtTheFirstBrokenEntryAndARebuildRestoresTheSameChainAlsoAfterAPurge() throws Exception {
        ApiClient officer = clientFor("tamper-officer", "auditor");
        ApiClient erin = clientFor("erin", "member");
        String templateId = createLocalTemplate("tamper", "exec sleep 1000");
        String ws = erin.post("/api/v1/workspaces", Map.of("name", "evidence", "templateId", templateId)).json()
                .get("id").asText();
        erin.awaitStatus(ws, "RUNNING");
        erin.post("/api/v1/workspaces/" + ws + "/stop", null);
        erin.awaitStatus(ws, "STOPPED");
        assertThat(erin.post("/api/v1/workspaces/" + ws + "/start", null).status()).isEqualTo(202);
        erin.awaitStatus(ws, "RUNNING");
        awaitEntries(jdbc, Map.of("resourceId", ws), 0, 7);
        awaitCaughtUp(jdbc);
        assertValid(officer);

        // The table is append-only for everybody who does not switch its triggers off.
        long k = jdbc.queryForObject("SELECT min(seq) FROM audit_entry WHERE resource_id = ? AND action = 'stop'",
                Long.class, ws);
        assertThatThrownBy(() -> jdbc.update("UPDATE audit_entry SET actor_id = 'mallory' WHERE seq = ?", k))
                .rootCause().hasMessageContaining("append-only");
        assertThatThrownBy(() -> jdbc.update("DELETE FROM audit_entry WHERE seq = ?", k))
                .rootCause().hasMessageContaining("append-only");
        assertThatThrownBy(() -> jdbc.execute("TRUNCATE audit_entry")).rootCause().hasMessageContaining("append-only");

        // Altering a row: found at that row.
        String actor = jdbc.queryForObject("SELECT actor_id FROM audit_entry WHERE seq = ?", String.class, k);
        asSuperuser("UPDATE audit_entry SET actor_id = 'mallory' WHERE seq = ?", k);
        JsonNode altered = verify(officer);
        assertThat(altered.get("valid").asBoolean()).isFalse();
        assertThat(altered.get("firstBrokenAt").asLong()).isEqualTo(k);
        assertThat(altered.get("problem").asText()).contains("altered");
        asSuperuser("UPDATE audit_entry SET actor_id = ? WHERE seq = ?", actor, k);
        assertValid(officer);

        // Deleting a row: found where it is missing.
        Map<String, Object> row = jdbc.queryForMap("SELECT * FROM audit_entry WHERE seq = ?", k);
        asSuperuser("DELETE FROM audit_entry WHERE seq = ?", k);
        JsonNode deleted = verify(officer);
        assertThat(deleted.get("valid").asBoolean()).isFalse();
        assertThat(deleted.get("firstBrokenAt").asLong()).isEqualTo(k);
        assertThat(deleted.get("problem").asText()).contains("missing");
        reinsert(row);
        assertValid(officer);

        // Reordering two rows (swapping their places): found at the first of them.
        asSuperuser("UPDATE audit_entry SET seq = -1 WHERE seq = ?", k);
        asSuperuser("UPDATE audit_entry SET seq = ? WHERE seq = ?", k, k + 1);
        asSuperuser("UPDATE audit_entry SET seq = ? WHERE seq = -1", k + 1);
        JsonNode reordered = verify(officer);
        assertThat(reordered.get("valid").asBoolean()).isFalse();
        assertThat(reordered.get("firstBrokenAt").asLong()).isEqualTo(k);
        asSuperuser("UPDATE audit_entry SET seq = -1 WHERE seq = ?", k);
        asSuperuser("UPDATE audit_entry SET seq = ? WHERE seq = ?", k, k + 1);
        asSuperuser("UPDATE audit_entry SET seq = ? WHERE seq = -1", k + 1);
        assertValid(officer);

        // Cutting off the end: found against the chain's head.
        awaitCaughtUp(jdbc);
        long last = jdbc.queryForObject("SELECT max(seq) FROM audit_entry", Long.class);
        Map<String, Object> tail = jdbc.queryForMap("SELECT * FROM audit_entry WHERE seq = ?", last);
        asSuperuser("DELETE FROM audit_entry WHERE seq = ?", last);
        JsonNode cut = verify(officer);
        assertThat(cut.get("valid").asBoolean()).isFalse();
        assertThat(cut.get("firstBrokenAt").asLong()).isEqualTo(last);
        reinsert(tail);
        JsonNode valid = assertValid(officer);

        // A signed head kept from a verify proves later that nothing before it was rewritten.
        long anchorSeq = valid.at("/signedHead/seq").asLong();
        String anchorHash = valid.at("/signedHead/hash").asText();
        assertThat(valid.at("/signedHead/signature").asText()).isNotBlank();
        JsonNode anchored = officer.get("/api/v1/audit/verify?anchorSeq=" + anchorSeq + "&anchorHash=" + anchorHash).json();
        assertThat(anchored.at("/anchor/matches").asBoolean()).isTrue();
        JsonNode wrongAnchor = officer.get("/api/v1/audit/verify?anchorSeq=" + anchorSeq + "&anchorHash="
                + "0".repeat(64)).json();
        assertThat(wrongAnchor.get("valid").asBoolean()).isFalse();
        assertThat(wrongAnchor.get("firstBrokenAt").asLong()).isEqualTo(anchorSeq);

        // A rebuild from the event store restores a tampered trail to the very same chain.
        awaitCaughtUp(jdbc);
        Map<Long, String> before = hashes();
        asSuperuser("UPDATE audit_entry SET client_ip = '203.0.113.66' WHERE seq = ?", k);
        assertThat(verify(officer).get("firstBrokenAt").asLong()).isEqualTo(k);
        rebuild();
        assertValid(officer);
        Map<Long, String> after = hashes();
        before.forEach((seq, hash) -> assertThat(after.get(seq)).as("hash of entry " + seq).isEqualTo(hash));

        // Purge: refused while the part to purge is broken, then done with a signed checkpoint.
        awaitCaughtUp(jdbc);
        Instant cutOff = jdbc.queryForObject("SELECT time FROM audit_entry WHERE seq = ?", java.sql.Timestamp.class, k + 1)
                .toInstant();
        long through = jdbc.queryForObject("SELECT min(seq) FROM audit_entry WHERE time >= ?", Long.class,
                java.sql.Timestamp.from(cutOff)) - 1;
        assertThat(through).isGreaterThanOrEqualTo(k);
        asSuperuser("UPDATE audit_entry SET error = 'edited' WHERE seq = ?", through);
        // Entries younger than atelier.audit.min-retention stay unless the purge says it overrides it.
        long upToBefore = jdbc.queryForObject("SELECT count(*) FROM audit_entry WHERE seq <= ?", Long.class, through);
        ApiClient.Response tooYoung = admin.post("/api/v1/audit/purge", Map.of("before", cutOff.toString()));
        assertThat(tooYoung.status()).isEqualTo(409);
        assertThat(tooYoung.json().get("detail").asText()).contains("atelier.audit.min-retention")
                .contains("overrideMinRetention");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_entry WHERE seq <= ?", Long.class, through))
                .isEqualTo(upToBefore).isPositive();
        ApiClient.Response refused = admin.post("/api/v1/audit/purge", Map.of("before", cutOff.toString(),
                "overrideMinRetention", true));
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().get("detail").asText()).contains("broken at entry " + through);
        asSuperuser("UPDATE audit_entry SET error = NULL WHERE seq = ?", through);
        String purgedHash = jdbc.queryForObject("SELECT hash FROM audit_entry WHERE seq = ?", String.class, through);

        ApiClient.Response purged = admin.post("/api/v1/audit/purge", Map.of("before", cutOff.toString(),
                "overrideMinRetention", true));
        assertThat(purged.status()).as(purged.body()).isEqualTo(200);
        assertThat(purged.json().get("purgedThrough").asLong()).isEqualTo(through);
        assertThat(purged.json().at("/checkpoint/hash").asText()).isEqualTo(purgedHash);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_entry WHERE seq <= ?", Long.class, through)).isZero();
        assertThatThrownBy(() -> jdbc.update("DELETE FROM audit_entry WHERE seq = ?", through + 1))
                .rootCause().hasMessageContaining("append-only");
        // The refused attempts are purge entries too (outcome failure): wait for the purge itself.
        awaitEntries(jdbc, Map.of("action", "purge", "actor", "admin", "outcome", "success"), through, 1);
        JsonNode afterPurge = assertValid(officer);
        assertThat(afterPurge.get("firstSeq").asLong()).isEqualTo(through + 1);
        assertThat(afterPurge.at("/checkpoint/seq").asLong()).isEqualTo(through);
        assertThat(afterPurge.at("/checkpoint/signatureValid").asBoolean()).isTrue();
        assertThat(afterPurge.get("publicKey").asText()).isNotBlank();
        JsonNode purgeEntry = officer.get("/api/v1/audit?action=purge&actor=admin&outcome=success&limit=1").json()
                .get("entries").get(0);
        assertThat(purgeEntry.at("/details/purgedThrough").asText()).isEqualTo(Long.toString(through));
        assertThat(purgeEntry.at("/details/minRetentionOverridden").asText()).isEqualTo("true");
        // Nothing before the cut-off is left to purge.
        assertThat(admin.post("/api/v1/audit/purge", Map.of("before", "2000-01-01T00:00:00Z")).json()
                .get("entries").asLong()).isZero();

        // The checkpoint cannot be changed unnoticed: its signature no longer matches.
        assertThatThrownBy(() -> jdbc.update("UPDATE audit_checkpoint SET entries = 0")).rootCause()
                .hasMessageContaining("append-only");
        asSuperuser("UPDATE audit_checkpoint SET hash = ? WHERE seq = ?", "f".repeat(64), through);
        JsonNode forged = verify(officer);
        assertThat(forged.get("valid").asBoolean()).isFalse();
        assertThat(forged.get("firstBrokenAt").asLong()).isEqualTo(through);
        asSuperuser("UPDATE audit_checkpoint SET hash = ? WHERE seq = ?", purgedHash, through);

        // A rebuild after the purge: the purged entries stay purged, the rest is the same chain.
        awaitCaughtUp(jdbc);
        Map<Long, String> beforeSecondRebuild = hashes();
        rebuild();
        JsonNode rebuilt = assertValid(officer);
        assertThat(rebuilt.get("firstSeq").asLong()).isEqualTo(through + 1);
        assertThat(jdbc.queryForObject("SELECT min(seq) FROM audit_entry", Long.class)).isEqualTo(through + 1);
        Map<Long, String> afterSecondRebuild = hashes();
        beforeSecondRebuild.forEach((seq, hash) ->
                assertThat(afterSecondRebuild.get(seq)).as("hash of entry " + seq).isEqualTo(hash));

        // The offline rebuild of docs/audit.md (its SQL block, run while the processor is stopped) does the same.
        awaitCaughtUp(jdbc);
        Map<Long, String> beforeOffline = hashes();
        StreamingEventProcessor processor = processing.eventProcessor(AuditProjection.PROCESSING_GROUP,
                StreamingEventProcessor.class).orElseThrow();
        processor.shutdownAsync().get(60, TimeUnit.SECONDS);
        try (Connection connection = dataSource.getConnection(); var statement = connection.createStatement()) {
            statement.execute(documentedOfflineRebuild());
        } finally {
            processor.start();
        }
        awaitCaughtUp(jdbc);
        assertValid(officer);
        Map<Long, String> afterOffline = hashes();
        beforeOffline.forEach((seq, hash) -> assertThat(afterOffline.get(seq)).as("hash of entry " + seq).isEqualTo(hash));
        assertThat(jdbc.queryForObject("SELECT min(seq) FROM audit_entry", Long.class)).isEqualTo(through + 1);
    }

    private static String documentedOfflineRebuild() throws Exception {
        String doc = Files.readString(Path.of("docs/audit.md"));
        int marker = doc.indexOf("<!-- offline-rebuild -->");
        assertThat(marker).as("the offline rebuild block in docs/audit.md").isPositive();
        int start = doc.indexOf("```sql", marker) + "```sql".length();
        return doc.substring(start, doc.indexOf("```", start)).trim();
    }

    private void rebuild() {
        ApiClient.Response accepted = admin.post("/api/v1/audit/rebuild", null);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300)).until(() -> {
            JsonNode status = admin.get("/api/v1/audit/status").json();
            return status.get("caughtUp").asBoolean();
        });
    }

    private Map<Long, String> hashes() {
        Map<Long, String> hashes = new TreeMap<>();
        jdbc.query("SELECT seq, hash FROM audit_entry", rs -> {
            hashes.put(rs.getLong(1), rs.getString(2));
        });
        return hashes;
    }

    private static JsonNode verify(ApiClient officer) {
        ApiClient.Response response = officer.get("/api/v1/audit/verify");
        assertThat(response.status()).isEqualTo(200);
        return response.json();
    }

    private static JsonNode assertValid(ApiClient officer) {
        JsonNode result = verify(officer);
        assertThat(result.get("valid").asBoolean()).as(result.toString()).isTrue();
        assertThat(result.has("firstBrokenAt")).isFalse();
        return result;
    }

    /**
     * A session as the database superuser with triggers switched off (what an attacker with DB access can do); the
     * engine's own role cannot switch them off.
     */
    private void asSuperuser(String sql, Object... args) throws SQLException {
        String url = ((com.zaxxer.hikari.HikariDataSource) dataSource).getJdbcUrl();
        try (Connection connection = dev.atelier.support.TestDatabase.superuser(url)) {
            connection.setAutoCommit(false);
            try (var statement = connection.createStatement()) {
                statement.execute("SET LOCAL session_replication_role = replica");
            }
            try (PreparedStatement update = connection.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    update.setObject(i + 1, args[i]);
                }
                update.executeUpdate();
            }
            connection.commit();
            connection.setAutoCommit(true);
        }
    }

    private void reinsert(Map<String, Object> row) {
        Map<String, Object> columns = new LinkedHashMap<>(row);
        String names = String.join(", ", columns.keySet());
        String marks = String.join(", ", List.of(columns.keySet().stream().map(c -> "?").toArray(String[]::new)));
        jdbc.update("INSERT INTO audit_entry (" + names + ") VALUES (" + marks + ")", columns.values().toArray());
    }
}
