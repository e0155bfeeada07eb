package dev.atelier.audit;

import dev.atelier.projections.audit.AuditRecordedEvent;

import java.util.Map;

/**
 * Records what the audit trail must hold although no aggregate produced an event (refused and denied requests,
 * reads of the trail, token changes, a purge). An interface of the engine so that the audit projection, which only
 * reads events, can have its purge recorded without publishing anything itself: the engine's implementation
 * ({@link EventStoreAuditRecorder}) writes the entry to the event store.
 */
public interface AuditRecorder {

    /**
     * Returns once the entry is stored (or, inside a transaction, stored with it), so a caller can answer only after
     * the attempt is on record. Blocks on the database: call it off the event loop.
     *
     * @param requestMetadata the request's metadata (actorId, actorType, requestId, clientIp, userAgent)
     */
    void record(AuditRecordedEvent event, Map<String, ?> requestMetadata);
}
