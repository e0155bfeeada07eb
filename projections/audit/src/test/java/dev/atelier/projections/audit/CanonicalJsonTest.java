package dev.atelier.projections.audit;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The canonical form and hash that docs/audit.md documents for verifiers outside Atelier. */
class CanonicalJsonTest {

    @Test
    void keysAreSortedNullsLeftOutNoWhitespace() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("b", "x\"y\n");
        value.put("a", 1L);
        value.put("z", null);
        value.put("c", Map.of("é", "ü", "B", List.of("1", "2")));
        assertThat(CanonicalJson.write(value)).isEqualTo("{\"a\":1,\"b\":\"x\\\"y\\n\",\"c\":{\"B\":[\"1\",\"2\"],\"é\":\"ü\"}}");
    }

    @Test
    void theDocumentedExampleEntryHasTheDocumentedHash() {
        Map<String, AuditEntry.Change> diff = new TreeMap<>();
        diff.put("status", new AuditEntry.Change("RUNNING", "STOPPING"));
        diff.put("buildNumber", new AuditEntry.Change("1", "2"));
        AuditEntry entry = new AuditEntry(42, Instant.parse("2026-11-03T09:15:02.123456Z"), "alice", "API_TOKEN",
                "stop", "requested", "workspace", "7d1c0a52-3f0e-4b7a-9a57-3e1f2b8c9d10", "my-first", "success",
                "USER", 2L, null, null, "req-1", "10.1.2.3", "curl/8.5.0", null, diff, null,
                "0b7e0e5c-98a4-4a0f-8f43-5cf6f4a0c2aa", 1234, "0".repeat(64), null);
        String canonical = CanonicalJson.write(entry.content());
        assertThat(canonical).isEqualTo("{\"action\":\"stop\",\"actorId\":\"alice\",\"actorType\":\"API_TOKEN\","
                + "\"buildNumber\":2,\"clientIp\":\"10.1.2.3\",\"diff\":{\"buildNumber\":{\"new\":\"2\",\"old\":\"1\"},"
                + "\"status\":{\"new\":\"STOPPING\",\"old\":\"RUNNING\"}},"
                + "\"eventId\":\"0b7e0e5c-98a4-4a0f-8f43-5cf6f4a0c2aa\",\"eventIndex\":1234,\"outcome\":\"success\","
                + "\"phase\":\"requested\",\"prevHash\":\"" + "0".repeat(64) + "\",\"reason\":\"USER\","
                + "\"requestId\":\"req-1\",\"resourceId\":\"7d1c0a52-3f0e-4b7a-9a57-3e1f2b8c9d10\","
                + "\"resourceName\":\"my-first\",\"resourceType\":\"workspace\",\"seq\":42,"
                + "\"time\":\"2026-11-03T09:15:02.123456Z\",\"userAgent\":\"curl/8.5.0\"}");
        // Recomputed with: printf '%s' "$canonical" | sha256sum
        assertThat(entry.computeHash()).isEqualTo(EXAMPLE_HASH);
    }

    static final String EXAMPLE_HASH = "868d7e53cff43337c269083be6484d3dd73d4e437f151c301a29f23c97013673";
}
