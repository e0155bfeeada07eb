package dev.atelier.projections.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of the audit trail, as the API returns and exports it. {@link #hash()} is the SHA-256 of the canonical
 * JSON of {@link #content()}: every field but the hash itself, including {@link #prevHash()}, so that changing,
 * removing or reordering any entry breaks the chain from there on.
 *
 * @param seq          position in the chain, from 1, without holes
 * @param actorType    USER, API_TOKEN, AGENT, SYSTEM, or ANONYMOUS for requests without valid credentials
 * @param phase        {@code requested} (somebody asked: accepted, refused or denied) or {@code completed}
 * @param outcome      {@code success}, {@code failure} or {@code denied}
 * @param reason       why a workspace transition happened (USER, IDLE, MAX_LIFETIME, ...)
 * @param tokenId      the API token the caller used (its id, never its secret), when it was one
 * @param statusCode   the HTTP status answered, for entries recorded from a request that produced no event
 * @param diff         changed fields: dotted path → old and new value; secrets appear as {@value AuditSecrets#MARKER}
 * @param details      further context (query of a read, force flag of a delete, method and path of an attempt)
 * @param eventId      the event in the event store this entry was made from
 * @param eventIndex   that event's global index in the event store
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AuditEntry(long seq, Instant time, String actorId, String actorType, String action, String phase,
                         String resourceType, String resourceId, String resourceName, String outcome, String reason,
                         Long buildNumber, Integer statusCode, String error, String requestId, String clientIp,
                         String userAgent, String tokenId, Map<String, Change> diff, Map<String, String> details, String eventId,
                         long eventIndex, String prevHash, String hash) {

    public static final String SUCCESS = "success";
    public static final String FAILURE = "failure";
    public static final String DENIED = "denied";
    public static final String REQUESTED = "requested";
    public static final String COMPLETED = "completed";

    /** Column order of the CSV export. */
    public static final List<String> CSV_COLUMNS = List.of("seq", "time", "actorId", "actorType", "action", "phase",
            "resourceType", "resourceId", "resourceName", "outcome", "reason", "buildNumber", "statusCode", "error",
            "requestId", "clientIp", "userAgent", "tokenId", "diff", "details", "eventId", "eventIndex", "prevHash", "hash");

    /** Old and new value of a changed field; an absent side means the field did not exist before / no longer exists. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Change(String old, @JsonProperty("new") String value) {
    }

    /** What the hash covers: every field but {@code hash}, nulls left out. */
    public Map<String, Object> content() {
        Map<String, Object> content = new LinkedHashMap<>();
        content.put("seq", seq);
        content.put("time", formatTime(time));
        content.put("actorId", actorId);
        content.put("actorType", actorType);
        content.put("action", action);
        content.put("phase", phase);
        content.put("resourceType", resourceType);
        content.put("resourceId", resourceId);
        content.put("resourceName", resourceName);
        content.put("outcome", outcome);
        content.put("reason", reason);
        content.put("buildNumber", buildNumber);
        content.put("statusCode", statusCode);
        content.put("error", error);
        content.put("requestId", requestId);
        content.put("clientIp", clientIp);
        content.put("userAgent", userAgent);
        content.put("tokenId", tokenId);
        content.put("diff", diffContent(diff));
        content.put("details", details == null || details.isEmpty() ? null : details);
        content.put("eventId", eventId);
        content.put("eventIndex", eventIndex);
        content.put("prevHash", prevHash);
        return content;
    }

    public String computeHash() {
        return CanonicalJson.sha256(CanonicalJson.write(content()));
    }

    public AuditEntry withHash(String newHash) {
        return new AuditEntry(seq, time, actorId, actorType, action, phase, resourceType, resourceId, resourceName,
                outcome, reason, buildNumber, statusCode, error, requestId, clientIp, userAgent, tokenId, diff, details, eventId,
                eventIndex, prevHash, newHash);
    }

    /** The diff as canonical JSON text (how it is stored and exported to CSV), or null when nothing changed. */
    public String diffJson() {
        Map<String, Object> content = diffContent(diff);
        return content == null ? null : CanonicalJson.write(content);
    }

    public String detailsJson() {
        return details == null || details.isEmpty() ? null : CanonicalJson.write(details);
    }

    public static String formatTime(Instant time) {
        return DateTimeFormatter.ISO_INSTANT.format(time);
    }

    private static Map<String, Object> diffContent(Map<String, Change> diff) {
        if (diff == null || diff.isEmpty()) {
            return null;
        }
        Map<String, Object> content = new LinkedHashMap<>();
        diff.forEach((path, change) -> {
            Map<String, String> sides = new LinkedHashMap<>();
            if (change.old() != null) {
                sides.put("old", change.old());
            }
            if (change.value() != null) {
                sides.put("new", change.value());
            }
            content.put(path, sides);
        });
        return content;
    }
}
