package dev.atelier.config;

import dev.atelier.domain.shared.Text;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.Decisions;
import org.axonframework.messaging.deadletter.EnqueueDecision;
import org.axonframework.messaging.deadletter.EnqueuePolicy;
import org.axonframework.messaging.deadletter.ThrowableCause;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.NonTransientDataAccessResourceException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When an event handler fails (docs/operations.md): the first {@code atelier.dead-letters.attempts - 1} failures of
 * an event are handed back to the processor, which rolls the batch back and retries it with its back-off, the event
 * then inside a savepoint of its own ({@link EventSavepoints}); the last one parks the event in the processing
 * group's dead-letter queue with its cause, after rolling back to that savepoint what handling it changed, and the
 * processor goes on with the next event. Should the last failure come without a savepoint (attempts = 1), the batch
 * is retried once more with one, so the event is tried twice. Failures of the database
 * itself (connection lost, serialization failure, deadlock) are never parked: the event is fine, the processor
 * retries until the database is back. A dead letter that fails again on retry stays parked with the new cause.
 */
final class DeadLetterPolicy implements EnqueuePolicy<EventMessage<?>> {

    private static final Logger log = LoggerFactory.getLogger(DeadLetterPolicy.class);
    private static final int MAX_TRACKED = 10_000;

    private final String processingGroup;
    private final int attempts;
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();

    DeadLetterPolicy(String processingGroup, int attempts) {
        this.processingGroup = processingGroup;
        this.attempts = Math.max(1, attempts);
    }

    @Override
    public EnqueueDecision<EventMessage<?>> decide(DeadLetter<? extends EventMessage<?>> letter, Throwable cause) {
        String eventId = letter.message().getIdentifier();
        EventSavepoints.Frame frame = EventSavepoints.current();
        if (frame == null) {
            // A dead letter being retried: it stays parked, with the new cause.
            log.warn("{}: retry of parked event {} failed again: {}", processingGroup, eventId, cause.toString());
            return Decisions.requeue(parkedCause(cause));
        }
        if (isTransient(cause)) {
            throw rethrow(cause);
        }
        int failed = failures.merge(eventId, 1, Integer::sum);
        if (failed < attempts) {
            if (failures.size() > MAX_TRACKED) {
                failures.clear();
            }
            frame.suspect();
            log.warn("{}: event {} ({}) failed (attempt {} of {}), the processor retries it: {}", processingGroup,
                    eventId, letter.message().getPayloadType().getSimpleName(), failed, attempts, cause.toString());
            throw rethrow(cause);
        }
        if (!frame.hasSavepoint()) {
            // Its last attempt, but handled without a savepoint (attempts = 1, or the suspects were forgotten): its
            // changes cannot be undone alone, so the batch is retried once more with a savepoint for it.
            failures.put(eventId, attempts - 1);
            frame.suspect();
            log.warn("{}: event {} ({}) failed (attempt {} of {}), the processor retries it with a savepoint: {}",
                    processingGroup, eventId, letter.message().getPayloadType().getSimpleName(), failed, attempts,
                    cause.toString());
            throw rethrow(cause);
        }
        failures.remove(eventId);
        frame.rollBack();
        log.error("{}: event {} ({}) failed {} times and is parked in the dead-letter queue; later events of other "
                        + "sequences go on (GET /api/v1/dead-letters)", processingGroup, eventId,
                letter.message().getPayloadType().getSimpleName(), attempts, cause);
        return Decisions.enqueue(parkedCause(cause));
    }

    /** What the queue keeps of the cause: its type and a message that any text column can hold. */
    static ThrowableCause parkedCause(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root && root.getMessage() == null) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        StringBuilder safe = new StringBuilder();
        String storable = Text.storable(message);
        for (int i = 0; i < storable.length() && safe.length() < 1000; i++) {
            char c = storable.charAt(i);
            safe.append(Text.isControl(c) && c != '\n' ? ' ' : c);
        }
        String type = root.getClass().getName();
        return new ThrowableCause(type.length() <= 255 ? type : type.substring(0, 255), safe.toString());
    }

    static boolean isTransient(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TransientDataAccessException || t instanceof RecoverableDataAccessException
                    || t instanceof CannotGetJdbcConnectionException
                    || t instanceof NonTransientDataAccessResourceException
                    || t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                // connection (08), transaction rollback (40: serialization, deadlock), resources (53),
                // operator intervention (57: shutdown, cancel)
                if (state.startsWith("08") || state.startsWith("40") || state.startsWith("53") || state.startsWith("57")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(cause);
    }
}
