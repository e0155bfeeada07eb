package dev.atelier.projections.audit;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An entry as far as its event alone tells: what the chain needs besides the resource's previous state (for the
 * diff and the name) and its place in the chain (seq, previous hash). Waits in {@code audit_pending} until its turn.
 *
 * @param set     the resource's fields this event sets (dotted path → value, secrets already digested); paths
 *                starting with {@code _} are kept in the resource state but never shown in a diff
 * @param replace path prefixes whose previous fields this event replaces as a whole (a new template definition)
 */
record AuditDraft(Instant time, String actorId, String actorType, String action, String phase, String resourceType,
                  String resourceId, String resourceName, String outcome, String reason, Long buildNumber,
                  Integer statusCode, String error, String requestId, String clientIp, String userAgent,
                  String tokenId, Map<String, String> details, Map<String, String> set, List<String> replace, String eventId,
                  long eventIndex) {

    AuditDraft {
        details = details == null ? Map.of() : details;
        set = set == null ? Map.of() : set;
        replace = replace == null ? List.of() : replace;
    }
}
