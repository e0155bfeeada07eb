package dev.atelier.observability;

import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What a handler's logs carry: the saga's and commands' the request id and workspace id, projections' the workspace id. */
class HandlerLogContextTest {

    /** Counts reads of its metadata: on an event from the store each read is a deserialization. */
    private final java.util.concurrent.atomic.AtomicInteger metadataReads = new java.util.concurrent.atomic.AtomicInteger();
    private final GenericDomainEventMessage<String> event = new GenericDomainEventMessage<>("Workspace", "ws-1", 3,
            "payload", MetaData.with(HandlerLogContext.REQUEST_ID, "req-7")) {
        @Override
        public MetaData getMetaData() {
            metadataReads.incrementAndGet();
            return super.getMetaData();
        }
    };

    @AfterEach
    void clear() {
        MDC.clear();
    }

    private Map<String, String> seenBy(HandlerLogContext context) throws Exception {
        Map<String, String> seen = new HashMap<>();
        MDC.put(HandlerLogContext.REQUEST_ID, "outer");
        DefaultUnitOfWork.startAndGet(event).executeWithResult(() -> context.handle(
                org.axonframework.messaging.unitofwork.CurrentUnitOfWork.get(), () -> {
                    seen.put(HandlerLogContext.REQUEST_ID, MDC.get(HandlerLogContext.REQUEST_ID));
                    seen.put(HandlerLogContext.WORKSPACE_ID, MDC.get(HandlerLogContext.WORKSPACE_ID));
                    return null;
                }));
        return seen;
    }

    @Test
    void aSagaOrCommandHandlerLogsWithTheRequestAndTheWorkspace() throws Exception {
        Map<String, String> seen = seenBy(new HandlerLogContext());
        assertThat(seen).containsEntry(HandlerLogContext.REQUEST_ID, "req-7").containsEntry(HandlerLogContext.WORKSPACE_ID, "ws-1");
        assertThat(metadataReads.get()).isPositive();
        assertThat(MDC.get(HandlerLogContext.REQUEST_ID)).as("restored afterwards").isEqualTo("outer");
        assertThat(MDC.get(HandlerLogContext.WORKSPACE_ID)).isNull();
    }

    @Test
    void aProjectionLogsWithTheWorkspaceOnlyAndLeavesTheMetadataUnread() throws Exception {
        Map<String, String> seen = seenBy(new HandlerLogContext().withoutRequestIds());
        assertThat(seen).containsEntry(HandlerLogContext.WORKSPACE_ID, "ws-1");
        assertThat(seen.get(HandlerLogContext.REQUEST_ID)).isNull();
        assertThat(metadataReads).hasValue(0);
        assertThat(MDC.get(HandlerLogContext.REQUEST_ID)).as("restored afterwards").isEqualTo("outer");
    }
}
