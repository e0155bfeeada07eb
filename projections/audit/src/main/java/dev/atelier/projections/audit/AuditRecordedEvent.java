package dev.atelier.projections.audit;

import org.axonframework.serialization.Revision;

import java.util.Map;

/**
 * Something the audit trail must hold that no domain event says: a request that was refused (validation, illegal
 * transition), denied (authentication, authorisation, a resource the caller may not see), a read of the audit trail
 * itself, or a change outside the aggregates (API tokens, a purge). Published to the event store like every other
 * event (with the request metadata: actor, request id, client IP, user agent), so that the audit chain has one
 * source and one global order and is rebuilt from the event store with these entries in their place.
 *
 * @param phase   {@code requested} for refused and denied attempts, {@code completed} for things that happened
 * @param outcome {@code success}, {@code failure} or {@code denied}
 */
@Revision("1")
public record AuditRecordedEvent(
        String action,
        String phase,
        String resourceType,
        String resourceId,
        String outcome,
        Integer statusCode,
        String error,
        Map<String, String> details) {
}
