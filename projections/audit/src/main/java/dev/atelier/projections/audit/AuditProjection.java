package dev.atelier.projections.audit;

import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.util.List;

/**
 * The audit trail's processor ({@value #PROCESSING_GROUP}: tracking, one segment, see application.yml): every event of
 * the event store (domain events and {@link AuditRecordedEvent}s) becomes one entry. Entries are staged and chained
 * in global index order just before the batch commits, in the same transaction as the processor's token, so a
 * crash never loses or duplicates an entry. Resetting the processor's token rebuilds the trail from the event store.
 */
@Component
@ProcessingGroup(AuditProjection.PROCESSING_GROUP)
public class AuditProjection {

    public static final String PROCESSING_GROUP = "audit";
    private static final String SEAL_REGISTERED = AuditProjection.class.getName() + ".seal";

    private final JdbcTemplate jdbc;
    private final AuditChain chain;
    private final AuditEntryFactory factory;

    public AuditProjection(JdbcTemplate jdbc, AuditChain chain, AuditKeys keys) {
        this.jdbc = jdbc;
        this.chain = chain;
        this.factory = new AuditEntryFactory(new AuditSecrets(keys.digestKey()));
    }

    @EventHandler
    void on(Object payload, EventMessage<?> event, TrackingToken token) {
        if (chain.alreadyChained(event.getIdentifier())) {
            return;
        }
        chain.stage(factory.draft(event, globalIndex(event, token)));
        if (CurrentUnitOfWork.isStarted()) {
            var root = CurrentUnitOfWork.get().root();
            root.getOrComputeResource(SEAL_REGISTERED, key -> {
                root.onPrepareCommit(u -> chain.seal());
                return Boolean.TRUE;
            });
        } else {
            chain.seal();
        }
    }

    @ResetHandler
    void reset() {
        chain.clearForRebuild();
    }

    /** The event's position in the JDBC event store; with Axon Server (gapless), the token's position. */
    private long globalIndex(EventMessage<?> event, TrackingToken token) {
        List<Long> index = jdbc.queryForList("SELECT globalindex FROM domainevententry WHERE eventidentifier = ?",
                Long.class, event.getIdentifier());
        if (!index.isEmpty()) {
            return index.get(0);
        }
        return token == null ? 0 : token.position().orElseThrow(() -> new IllegalStateException(
                "event " + event.getIdentifier() + " has no position in the event store"));
    }
}
