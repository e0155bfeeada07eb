package dev.atelier.projections.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import org.springframework.jdbc.core.JdbcTemplate;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/** Waiting for and reading audit entries in integration tests. */
final class AuditTestSupport {

    private AuditTestSupport() {
    }

    /** The highest seq of entries matching the filter (query parameters), 0 if none. */
    static long lastSeq(JdbcTemplate jdbc, Map<String, String> filter) {
        AuditFilter.Sql where = AuditFilter.parse(filter, null).where();
        Long seq = jdbc.queryForObject("SELECT coalesce(max(seq), 0) FROM audit_entry WHERE TRUE" + where.conditions(),
                Long.class, where.args().toArray());
        return seq == null ? 0 : seq;
    }

    /**
     * Waits (through the database, so that waiting records no reads) until at least {@code count} entries after
     * {@code afterSeq} match, not counting the heartbeats of workspace agents, which this engine refuses for now.
     */
    static void awaitEntries(JdbcTemplate jdbc, Map<String, String> filter, long afterSeq, int count) {
        AuditFilter.Sql where = AuditFilter.parse(filter, null).where();
        List<Object> args = new ArrayList<>(where.args());
        args.add(afterSeq);
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).until(() -> {
            Long n = jdbc.queryForObject("SELECT count(*) FROM audit_entry WHERE TRUE" + where.conditions()
                    + " AND seq > ? AND action <> 'activity'", Long.class, args.toArray());
            return n != null && n >= count;
        });
    }

    /** Entries matching the filter with seq after {@code afterSeq}, oldest first, through the API. */
    static List<JsonNode> entriesAfter(ApiClient reader, Map<String, String> filter, long afterSeq) {
        ApiClient.Response page = reader.get("/api/v1/audit?order=asc&limit=1000&" + query(filter));
        if (page.status() != 200) {
            throw new AssertionError("audit query failed: " + page);
        }
        List<JsonNode> out = new ArrayList<>();
        page.json().get("entries").forEach(e -> {
            if (e.get("seq").asLong() > afterSeq) {
                out.add(e);
            }
        });
        return out;
    }

    static String query(Map<String, String> filter) {
        return filter.entrySet().stream().map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    /** Waits until every event in the store has been chained (nothing pending, the head at the store's last index). */
    static void awaitCaughtUp(JdbcTemplate jdbc) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            Long storeIndex = jdbc.queryForObject("SELECT coalesce(max(globalindex), 0) FROM domainevententry", Long.class);
            Long chained = jdbc.queryForObject("SELECT last_index FROM audit_chain WHERE id = 1", Long.class);
            Long pending = jdbc.queryForObject("SELECT count(*) FROM audit_pending", Long.class);
            return pending == 0 && chained >= storeIndex;
        });
    }
}
