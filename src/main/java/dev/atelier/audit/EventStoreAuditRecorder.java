package dev.atelier.audit;

import dev.atelier.projections.audit.AuditRecordedEvent;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.gateway.EventGateway;
import org.springframework.stereotype.Component;

import java.util.Map;

/**
 * The {@link AuditRecorder}: an {@link AuditRecordedEvent} in the event store, with the request's metadata, so that
 * the audit chain has one source and one global order and the audit projection picks the entry up like any other
 * event.
 */
@Component
public class EventStoreAuditRecorder implements AuditRecorder {

    private final EventGateway events;

    public EventStoreAuditRecorder(EventGateway events) {
        this.events = events;
    }

    @Override
    public void record(AuditRecordedEvent event, Map<String, ?> requestMetadata) {
        events.publish(GenericEventMessage.asEventMessage(event).andMetaData(requestMetadata));
    }
}
