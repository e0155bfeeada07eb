package dev.atelier.abuse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Hammering the API with wrong tokens: limited per client address, one audit entry per address and interval. */
class AuthFailureLimitIT extends AbuseContext {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void wrongTokensFromOneAddressAreLimitedAGoodTokenStillWorksAndTheStoreGrowsByABoundedNumberOfEvents() throws Exception {
        String attacker = "203.0.113.77";
        long eventsBefore = events();
        long indexBefore = jdbc.queryForObject("SELECT coalesce(max(globalindex), 0) FROM domainevententry", Long.class);
        long started = System.nanoTime();
        List<Integer> statuses = new ArrayList<>();
        Raw limited = null;
        for (int i = 0; i < 150; i++) {
            Raw answer = raw("GET", "/api/v1/workspaces", "atl_wrong-" + i, attacker, null);
            statuses.add(answer.status());
            if (answer.status() == 429 && limited == null) {
                limited = answer;
            }
        }
        double elapsedSeconds = (System.nanoTime() - started) / 1e9;

        assertThat(statuses).containsOnly(401, 429);
        assertThat(statuses.subList(0, 30)).containsOnly(401);
        assertThat(statuses.stream().filter(s -> s == 429).count()).isGreaterThanOrEqualTo(100);
        assertThat(limited).isNotNull();
        assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 60L);
        assertThat(limited.headers().firstValue("Content-Type").orElseThrow()).contains("problem+json");
        assertThat(JSON.readTree(limited.body()).get("detail").asText()).contains("atelier.security.auth-failure-limit");

        // A good token from the same address is served at once; another address is not limited.
        assertThat(raw("GET", "/api/v1/workspaces", "atl_test-admin-token", attacker, null).status()).isEqualTo(200);
        assertThat(raw("GET", "/api/v1/workspaces", "atl_wrong", "198.51.100.5", null).status()).isEqualTo(401);

        // The first on its own (as every refused request), the repeats as one entry per address and interval
        // (2 s here), written when the interval is over.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> sum(attacker) + single(attacker).size() == 150);
        assertThat(single(attacker)).isNotEmpty().hasSizeLessThanOrEqualTo(4).containsOnly(401);
        List<Map<String, Object>> entries = jdbc.queryForList("""
                SELECT actor_id, actor_type, outcome, action, details, client_ip FROM audit_entry
                WHERE client_ip = ? AND action = 'authenticate'""", attacker);
        long intervals = (long) Math.ceil(elapsedSeconds / 2.0) + 1;
        assertThat(entries).hasSizeBetween(1, (int) intervals).allSatisfy(e -> {
            assertThat(e.get("actor_id")).isEqualTo("anonymous");
            assertThat(e.get("actor_type")).isEqualTo("ANONYMOUS");
            assertThat(e.get("outcome")).isEqualTo("denied");
        });
        // The events the 150 requests caused: the first of each interval and one aggregate per interval, nothing per
        // request. (The whole store may grow by a few more: workspaces of earlier tests still finish their deletes.)
        long fromAttacker = jdbc.queryForObject("""
                SELECT count(*) FROM domainevententry WHERE globalindex > ? AND convert_from(metadata, 'UTF8') LIKE ?""",
                Long.class, indexBefore, "%\"clientIp\":\"" + attacker + "\"%");
        assertThat(fromAttacker).isBetween(2L, 2 * intervals);
        assertThat(events() - eventsBefore).isLessThan(2 * intervals + 20).isLessThan(150);
    }

    private long sum(String address) throws Exception {
        long total = 0;
        for (String details : jdbc.queryForList("SELECT details FROM audit_entry WHERE client_ip = ? AND action = "
                + "'authenticate'", String.class, address)) {
            JsonNode d = JSON.readTree(details);
            total += d.get("requests").asLong();
        }
        return total;
    }

    /** Entries of single requests (the first of an interval), by status. */
    private List<Integer> single(String address) {
        return jdbc.queryForList("SELECT status_code FROM audit_entry WHERE client_ip = ? AND action <> 'authenticate'",
                Integer.class, address);
    }

    private long events() {
        return jdbc.queryForObject("SELECT count(*) FROM domainevententry", Long.class);
    }
}
