package dev.atelier.config;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.deadletter.jdbc.JdbcDeadLetter;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.SequencedDeadLetterProcessor;
import org.axonframework.messaging.deadletter.SequencedDeadLetterQueue;
import org.axonframework.springboot.EventProcessorProperties;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The parked events of every processing group (docs/operations.md): listed, retried and evicted through Axon's
 * queues and processors; counted for {@code /actuator/health} (component {@code deadLetters}, always UP so that the
 * node keeps serving: a parked event is work for an operator, not a reason to take the node out) and for the
 * metric {@code atelier_dead_letters{group}}.
 */
@Component("deadLetters")
public class DeadLetters extends AbstractHealthIndicator {

    private final JdbcTemplate jdbc;
    private final EventProcessingConfiguration processing;
    private final Set<String> groups;

    public DeadLetters(JdbcTemplate jdbc, EventProcessingConfiguration processing, EventProcessorProperties processors,
                       MeterRegistry meters) {
        this.jdbc = jdbc;
        this.processing = processing;
        this.groups = DeadLetterConfiguration.groups(processors);
        for (String group : groups) {
            Gauge.builder("atelier.dead.letters", () -> count(group))
                    .description("events parked in the dead-letter queue of a processing group")
                    .tag("group", group).register(meters);
        }
    }

    /** A parked event as operators see it. */
    public record Letter(String id, String group, String sequence, long sequenceIndex, String eventId,
                         Long eventIndex, String eventType, String aggregateType, String aggregateId,
                         Instant enqueuedAt, Instant lastTouched, String causeType, String causeMessage) {
    }

    public Set<String> groups() {
        return groups;
    }

    public long count(String group) {
        Long n = jdbc.queryForObject("SELECT count(*) FROM deadletterentry WHERE processinggroup = ?", Long.class, group);
        return n == null ? 0 : n;
    }

    public Map<String, Long> counts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        groups.forEach(g -> counts.put(g, 0L));
        jdbc.query("SELECT processinggroup, count(*) FROM deadletterentry GROUP BY processinggroup",
                rs -> {
                    counts.put(rs.getString(1), rs.getLong(2));
                });
        return counts;
    }

    /** Oldest first, by group and sequence; at most {@code limit}. */
    public List<Letter> list(String group, int limit) {
        return jdbc.query("""
                        SELECT l.*, e.globalindex FROM deadletterentry l
                        LEFT JOIN domainevententry e ON e.eventidentifier = l.eventidentifier
                        WHERE (CAST(? AS VARCHAR) IS NULL OR l.processinggroup = ?)
                        ORDER BY l.enqueuedat, l.processinggroup, l.sequenceidentifier, l.sequenceindex LIMIT ?""",
                (rs, i) -> letter(rs), group, group, limit);
    }

    public Optional<Letter> find(String id) {
        return jdbc.query("""
                        SELECT l.*, e.globalindex FROM deadletterentry l
                        LEFT JOIN domainevententry e ON e.eventidentifier = l.eventidentifier
                        WHERE l.deadletteridentifier = ?""", (rs, i) -> letter(rs), id).stream().findFirst();
    }

    /**
     * Hands the letter's whole sequence to its processing group's handlers again, oldest first, stopping at the
     * first that fails again (it stays parked with the new cause).
     *
     * @return whether the letter is gone (handled)
     */
    public boolean retry(Letter letter) {
        SequencedDeadLetterProcessor<EventMessage<?>> processor = processing.sequencedDeadLetterProcessor(letter.group())
                .orElseThrow(() -> new IllegalStateException("processing group " + letter.group() + " has no dead-letter queue"));
        try {
            processor.process(first -> first instanceof JdbcDeadLetter<?> jdbcLetter
                    && jdbcLetter.getSequenceIdentifier().equals(letter.sequence()));
        } catch (RuntimeException e) {
            // the letter stays parked; whether it is gone is what counts
            org.slf4j.LoggerFactory.getLogger(DeadLetters.class).warn("retry of dead letter {} failed: {}",
                    letter.id(), e.toString());
        }
        return find(letter.id()).isEmpty();
    }

    /** Removes the letter from its queue for good: its event is never handled by that group. */
    public boolean evict(Letter letter) {
        SequencedDeadLetterQueue<EventMessage<?>> queue = processing.deadLetterQueue(letter.group())
                .orElseThrow(() -> new IllegalStateException("processing group " + letter.group() + " has no dead-letter queue"));
        for (DeadLetter<? extends EventMessage<?>> parked : queue.deadLetterSequence(letter.sequence())) {
            if (parked instanceof JdbcDeadLetter<?> jdbcLetter && jdbcLetter.getIdentifier().equals(letter.id())) {
                queue.evict(parked);
                return true;
            }
        }
        return false;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Map<String, Long> counts = counts();
        builder.up().withDetail("total", counts.values().stream().mapToLong(Long::longValue).sum())
                .withDetail("groups", counts);
    }

    private static Letter letter(java.sql.ResultSet rs) throws java.sql.SQLException {
        long index = rs.getLong("globalindex");
        return new Letter(rs.getString("deadletteridentifier"), rs.getString("processinggroup"),
                rs.getString("sequenceidentifier"), rs.getLong("sequenceindex"), rs.getString("eventidentifier"),
                rs.wasNull() ? null : index, rs.getString("payloadtype"), rs.getString("type"),
                rs.getString("aggregateidentifier"), instant(rs.getString("enqueuedat")),
                instant(rs.getString("lasttouched")), rs.getString("causetype"), rs.getString("causemessage"));
    }

    private static Instant instant(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
