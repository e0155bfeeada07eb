package dev.atelier.projections.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reading and writing {@code audit_entry} rows. */
final class AuditRows {

    static final String COLUMNS = "seq, time, actor_id, actor_type, action, phase, resource_type, resource_id, "
            + "resource_name, outcome, reason, build_number, status_code, error, request_id, client_ip, user_agent, "
            + "token_id, diff, details, event_id, event_index, prev_hash, hash";
    static final String INSERT = "INSERT INTO audit_entry (" + COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final TypeReference<Map<String, Map<String, String>>> DIFF = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, String>> DETAILS = new TypeReference<>() {
    };

    private AuditRows() {
    }

    static AuditEntry read(ResultSet rs) throws SQLException {
        return new AuditEntry(rs.getLong("seq"), rs.getTimestamp("time").toInstant(), rs.getString("actor_id"),
                rs.getString("actor_type"), rs.getString("action"), rs.getString("phase"),
                rs.getString("resource_type"), rs.getString("resource_id"), rs.getString("resource_name"),
                rs.getString("outcome"), rs.getString("reason"), (Long) rs.getObject("build_number", Long.class),
                (Integer) rs.getObject("status_code", Integer.class), rs.getString("error"),
                rs.getString("request_id"), rs.getString("client_ip"), rs.getString("user_agent"),
                rs.getString("token_id"), diff(rs.getString("diff")), details(rs.getString("details")), rs.getString("event_id"),
                rs.getLong("event_index"), rs.getString("prev_hash"), rs.getString("hash"));
    }

    static Object[] values(AuditEntry e) {
        return new Object[]{e.seq(), Timestamp.from(e.time()), e.actorId(), e.actorType(), e.action(), e.phase(),
                e.resourceType(), e.resourceId(), e.resourceName(), e.outcome(), e.reason(), e.buildNumber(),
                e.statusCode(), e.error(), e.requestId(), e.clientIp(), e.userAgent(), e.tokenId(), e.diffJson(), e.detailsJson(),
                e.eventId(), e.eventIndex(), e.prevHash(), e.hash()};
    }

    static Map<String, AuditEntry.Change> diff(String json) {
        if (json == null) {
            return null;
        }
        Map<String, AuditEntry.Change> diff = new LinkedHashMap<>();
        read(json, DIFF).forEach((path, sides) -> diff.put(path, new AuditEntry.Change(sides.get("old"), sides.get("new"))));
        return diff;
    }

    static Map<String, String> details(String json) {
        return json == null ? null : new TreeMap<>(read(json, DETAILS));
    }

    static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static <T> T read(String json, TypeReference<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable audit JSON: " + e.getOriginalMessage(), e);
        }
    }

    static List<Object> list(Object... values) {
        return List.of(values);
    }
}
