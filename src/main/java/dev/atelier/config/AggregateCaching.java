package dev.atelier.config;

import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.beans.factory.ObjectProvider;
import org.axonframework.common.jdbc.PersistenceExceptionResolver;
import org.axonframework.eventsourcing.EventCountSnapshotTriggerDefinition;
import org.axonframework.eventsourcing.eventstore.jpa.SQLStateResolver;
import org.axonframework.eventsourcing.SnapshotTriggerDefinition;
import org.axonframework.eventsourcing.Snapshotter;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Aggregates are not read back from the event store for every command (docs/architecture.md, "What changed for speed
 * and why"). Each long-lived aggregate type has its own bounded cache, named in its {@code @Aggregate(cache = ...)};
 * a stale entry cannot lose an event: the event store refuses an append whose sequence number is taken (unique
 * aggregate identifier and sequence number), the command fails and Axon drops the entry, so the next command loads
 * the aggregate afresh; and a hit whose version is not the event store's is not used at all (another node handled a
 * command meanwhile: {@link BoundedAggregateCache}). Workspaces, which live for months and gain events at every start, stop and idle check, are
 * also snapshotted, so that a load after an eviction or a restart reads at most {@code snapshot-every} events.
 */
@Configuration(proxyBeanMethods = false)
public class AggregateCaching {

    @Bean
    BoundedAggregateCache workspaceCache(Settings settings, ObjectProvider<EventStore> eventStore) {
        return new BoundedAggregateCache(settings.cacheSize(), settings.cacheTtl(), storedVersions(eventStore));
    }

    @Bean
    BoundedAggregateCache templateCache(Settings settings, ObjectProvider<EventStore> eventStore) {
        return new BoundedAggregateCache(settings.cacheSize(), settings.cacheTtl(), storedVersions(eventStore));
    }

    @Bean
    BoundedAggregateCache budgetCache(Settings settings, ObjectProvider<EventStore> eventStore) {
        return new BoundedAggregateCache(settings.cacheSize(), settings.cacheTtl(), storedVersions(eventStore));
    }

    @Bean
    BoundedAggregateCache userCache(Settings settings, ObjectProvider<EventStore> eventStore) {
        return new BoundedAggregateCache(settings.cacheSize(), settings.cacheTtl(), storedVersions(eventStore));
    }

    @Bean
    BoundedAggregateCache teamCache(Settings settings, ObjectProvider<EventStore> eventStore) {
        return new BoundedAggregateCache(settings.cacheSize(), settings.cacheTtl(), storedVersions(eventStore));
    }

    /** Each cache hit is checked against the aggregate's last sequence number in the event store (several nodes). */
    private static BoundedAggregateCache.StoredVersions storedVersions(ObjectProvider<EventStore> eventStore) {
        return id -> eventStore.getObject().lastSequenceNumberFor(id);
    }

    /**
     * Recognises a taken sequence number on PostgreSQL (SQL state 23505, also inside the batch exception the JDBC
     * driver throws), so that the collision a stale cache entry or two nodes produce is Axon's
     * {@code ConcurrencyException} (API: 409, cache entry dropped) instead of a generic {@code EventStoreException}:
     * Axon's default resolver, going by vendor error codes, does not recognise PostgreSQL's.
     */
    @Bean
    PersistenceExceptionResolver persistenceExceptionResolver() {
        return new SQLStateResolver("23505");
    }

    /** A snapshot of a workspace after every {@code atelier.workspace.snapshot-every} events since the last one. */
    @Bean
    SnapshotTriggerDefinition workspaceSnapshotTrigger(Snapshotter snapshotter, WorkspaceSettings settings) {
        return new EventCountSnapshotTriggerDefinition(snapshotter, settings.snapshotEvery());
    }

    /**
     * {@code atelier.aggregates.*}.
     *
     * @param cacheSize aggregates kept in memory per aggregate type (workspaces, templates, budgets, users, teams);
     *                  the least recently used go first
     * @param cacheTtl  how long an entry is trusted after the last command on this node: with several nodes, a
     *                  command another node handled leaves this node's entry out of date, and a command that only
     *                  refuses (appends nothing) is not caught by the event store; this bounds that window
     */
    @ConfigurationProperties("atelier.aggregates")
    public record Settings(@DefaultValue("10000") long cacheSize,
                           @DefaultValue("PT10S") java.time.Duration cacheTtl) {

        public Settings {
            if (cacheTtl.isNegative() || cacheTtl.isZero()) {
                throw new IllegalArgumentException("atelier.aggregates.cache-ttl must be positive");
            }
            if (cacheSize < 1) {
                throw new IllegalArgumentException("atelier.aggregates.cache-size must be at least 1, was " + cacheSize);
            }
        }
    }

    /**
     * {@code atelier.workspace.*}.
     *
     * @param snapshotEvery a workspace is snapshotted after this many events since its last snapshot: loading it
     *                      then reads one snapshot and fewer than this many events. 100 is about 30 stop/start days
     *                      of a workspace with idle warnings; lower costs a snapshot row more often
     */
    @ConfigurationProperties("atelier.workspace")
    public record WorkspaceSettings(@DefaultValue("100") int snapshotEvery) {

        public WorkspaceSettings {
            if (snapshotEvery < 2) {
                throw new IllegalArgumentException("atelier.workspace.snapshot-every must be at least 2, was " + snapshotEvery);
            }
        }
    }
}
