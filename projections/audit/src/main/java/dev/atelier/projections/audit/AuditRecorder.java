package dev.atelier.projections.audit;

import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.gateway.EventGateway;
import org.springframework.stereotype.Component;

import java.util.Map;

/**
 * Records what the audit trail must hold although no aggregate produced an event (refused and denied requests,
 * reads of the trail, token changes): as an {@link AuditRecordedEvent} in the event store, with the request's
 * metadata (actorId, actorType, requestId, clientIp, userAgent). Returns once the event is stored (or, inside a
 * transaction, stored with it), so a caller can answer only after the attempt is on record.
 */
@Component
public class AuditRecorder {

    private final EventGateway events;

    public AuditRecorder(EventGateway events) {
        this.events = events;
    }

    /** Blocks on the database: call it off the event loop. */
    public void record(AuditRecordedEvent event, Map<String, ?> requestMetadata) {
        events.publish(GenericEventMessage.asEventMessage(event).andMetaData(requestMetadata));
    }
}
