package dev.atelier.metrics;

import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.provider.ProviderRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * Gauges read from PostgreSQL, so that every node reports the cluster's state, not its own share:
 * {@code atelier_workspaces{status,provider}} (the workspaces view, deleted ones left out) and
 * {@code atelier_processor_lag{processing_group}} (events between the event store's head and the group's slowest
 * segment, whichever node holds it: a group that stops moving while events arrive shows here first).
 *
 * <p>A scrape reads both at most once per {@link #MAX_AGE}: several Prometheus servers, or a scrape per gauge,
 * cost no more queries. Registered when the application is ready, when the processing groups are known.
 */
@Component
public class OperationalMetrics {

    static final Duration MAX_AGE = Duration.ofSeconds(5);
    private static final Logger log = LoggerFactory.getLogger(OperationalMetrics.class);

    private final MeterRegistry meters;
    private final JdbcTemplate jdbc;
    private final ProviderRegistry providers;
    private final EventProcessingConfiguration processing;
    private final Serializer serializer;
    private final Clock clock = Clock.systemUTC();
    private Snapshot snapshot;

    public OperationalMetrics(MeterRegistry meters, JdbcTemplate jdbc, ProviderRegistry providers,
                              EventProcessingConfiguration processing, @Qualifier("serializer") Serializer serializer) {
        this.meters = meters;
        this.jdbc = jdbc;
        this.providers = providers;
        this.processing = processing;
        this.serializer = serializer;
    }

    private record Snapshot(Instant at, Map<String, Long> workspaces, Map<String, Long> lag) {
    }

    @EventListener(ApplicationReadyEvent.class)
    public void register() {
        for (String provider : new TreeSet<>(providers.names())) {
            for (WorkspaceStatus status : WorkspaceStatus.values()) {
                if (status == WorkspaceStatus.DELETED) {
                    continue;
                }
                String key = status.name() + "/" + provider;
                Gauge.builder("atelier.workspaces", this, m -> m.current().workspaces().getOrDefault(key, 0L))
                        .description("Workspaces by status and provider (all nodes)")
                        .tag("status", status.name()).tag("provider", provider).register(meters);
            }
        }
        processing.eventProcessors().forEach((name, processor) -> {
            if (processor instanceof StreamingEventProcessor) {
                Gauge.builder("atelier.processor.lag", this, m -> m.lagOf(name))
                        .description("Events between the event store's head and the group's slowest segment")
                        .tag("processing_group", name).register(meters);
            }
        });
    }

    /** The lag of one processing group as the gauge reports it (for tests). */
    long lagOf(String group) {
        return current().lag().getOrDefault(group, 0L);
    }

    private synchronized Snapshot current() {
        Instant now = clock.instant();
        if (snapshot == null || Duration.between(snapshot.at(), now).compareTo(MAX_AGE) >= 0) {
            try {
                snapshot = new Snapshot(now, workspaces(), lag());
            } catch (RuntimeException e) {
                // A scrape must not fail because the database is briefly away; the last values stay.
                log.warn("metrics: could not read the cluster state: {}", e.toString());
                if (snapshot == null) {
                    snapshot = new Snapshot(now, Map.of(), Map.of());
                }
            }
        }
        return snapshot;
    }

    private Map<String, Long> workspaces() {
        Map<String, Long> counts = new HashMap<>();
        jdbc.query("SELECT status, provider, count(*) AS n FROM workspace_view WHERE status <> 'DELETED' "
                + "GROUP BY status, provider", rs -> {
            counts.put(rs.getString("status") + "/" + rs.getString("provider"), rs.getLong("n"));
        });
        return counts;
    }

    /** Per processing group: head minus the lowest position of its segments (a segment without a token: all). */
    private Map<String, Long> lag() {
        Long head = jdbc.queryForObject("SELECT COALESCE(max(globalindex), -1) FROM domainevententry", Long.class);
        long top = head == null ? -1 : head;
        Map<String, Long> slowest = new HashMap<>();
        jdbc.query("SELECT processorname, token, tokentype FROM tokenentry", rs -> {
            String group = rs.getString("processorname");
            byte[] token = rs.getBytes("token");
            String type = rs.getString("tokentype");
            long position = -1;
            if (token != null && type != null) {
                TrackingToken tracking = serializer.deserialize(
                        new SimpleSerializedObject<>(token, byte[].class, type, null));
                OptionalLong p = tracking == null ? OptionalLong.empty() : tracking.position();
                position = p.orElse(-1);
            }
            slowest.merge(group, position, Math::min);
        });
        Map<String, Long> lag = new HashMap<>();
        slowest.forEach((group, position) -> lag.put(group, Math.max(0, top - position)));
        return lag;
    }
}
