package dev.atelier.config;

import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import javax.annotation.Nonnull;
import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A savepoint around the handling of an event that has failed before, for a processing group with a dead-letter
 * queue. A streaming processor handles a batch of events in one transaction; on PostgreSQL one failed statement
 * aborts that transaction, so an event can only be parked (and the rest of its batch kept) if what handling it
 * changed can be rolled back alone. {@link DeadLetterPolicy} rolls back to this savepoint before the event is parked.
 * <p>
 * Why not a savepoint for every event, as before: a {@code SAVEPOINT} and its {@code RELEASE} are two round trips
 * per event, 21 % of the projections' catch-up samples in the benchmark of 2026-12-04 (docs/benchmarks.md), for a
 * failure that almost never happens. So an event is handled without a savepoint (its {@link Frame} only marks that a
 * processor is handling it) until it fails: the policy then marks it as a suspect of this group and hands the failure
 * back to the processor, which rolls the whole batch back and retries it; on that retry the suspect, and only it, is
 * handled inside a savepoint, so when it fails for the last time it is parked alone and every other event of the
 * batch is committed once, with the batch. An event that was a suspect stops being one once it has been handled
 * (projected or parked).
 */
final class EventSavepoints implements MessageHandlerInterceptor<EventMessage<?>> {

    private static final ThreadLocal<Deque<Frame>> FRAMES = ThreadLocal.withInitial(ArrayDeque::new);
    /** Beyond this many suspects (events that failed and were never handled again) the set starts over. */
    private static final int MAX_SUSPECTS = 10_000;

    private final DataSource dataSource;
    private final Set<String> suspects = ConcurrentHashMap.newKeySet();

    EventSavepoints(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The event being handled by a processor on this thread, with its savepoint if it is a suspect. */
    static final class Frame {
        private final EventSavepoints owner;
        private final String eventId;
        private final Connection connection;
        private final Savepoint savepoint;
        private boolean rolledBack;
        private List<Runnable> undos;

        Frame(EventSavepoints owner, String eventId, Connection connection, Savepoint savepoint) {
            this.owner = owner;
            this.eventId = eventId;
            this.connection = connection;
            this.savepoint = savepoint;
        }

        /** Whether this event's own changes can be undone while the batch goes on. */
        boolean hasSavepoint() {
            return savepoint != null;
        }

        /** The next time this event is handled by this group (the batch's retry), it gets a savepoint. */
        void suspect() {
            if (owner.suspects.size() >= MAX_SUSPECTS) {
                owner.suspects.clear();
            }
            owner.suspects.add(eventId);
        }

        /** Undoes what handling this event changed; the transaction can be used again. */
        void rollBack() {
            if (savepoint == null) {
                throw new IllegalStateException("event " + eventId + " was handled without a savepoint");
            }
            if (!rolledBack) {
                try {
                    connection.rollback(savepoint);
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot roll back to the event's savepoint", e);
                }
                rolledBack = true;
                if (undos != null) {
                    for (int i = undos.size() - 1; i >= 0; i--) {
                        undos.get(i).run();
                    }
                }
            }
        }

        void onRollBack(Runnable undo) {
            if (savepoint == null) {
                return; // a failure rolls back the whole batch, and with it whatever the handler held for it
            }
            if (undos == null) {
                undos = new ArrayList<>(2);
            }
            undos.add(undo);
        }
    }

    /** The frame of the event being handled by a processor on this thread, or null (e.g. a dead letter's retry). */
    static Frame current() {
        return FRAMES.get().peek();
    }

    /** How many events of this group wait for their retry with a savepoint (tests). */
    int suspects() {
        return suspects.size();
    }

    @Override
    public Object handle(@Nonnull UnitOfWork<? extends EventMessage<?>> unitOfWork,
                         @Nonnull InterceptorChain interceptorChain) throws Exception {
        ConnectionHolder holder = (ConnectionHolder) TransactionSynchronizationManager.getResource(dataSource);
        if (holder == null || !TransactionSynchronizationManager.isActualTransactionActive()) {
            return interceptorChain.proceed();
        }
        String eventId = unitOfWork.getMessage().getIdentifier();
        boolean suspect = !suspects.isEmpty() && suspects.contains(eventId);
        Connection connection = suspect ? holder.getConnection() : null;
        Frame frame = new Frame(this, eventId, connection, suspect ? connection.setSavepoint() : null);
        Deque<Frame> frames = FRAMES.get();
        frames.push(frame);
        try {
            Object result = interceptorChain.proceed();
            if (suspect) {
                suspects.remove(eventId); // handled, or parked by the policy
            }
            return result;
        } catch (Exception | Error e) {
            if (suspect) {
                try {
                    frame.rollBack();
                } catch (RuntimeException ignored) {
                    // the transaction itself is gone; the batch fails and is retried
                }
            }
            throw e;
        } finally {
            frames.pop();
            if (suspect) {
                try {
                    connection.releaseSavepoint(frame.savepoint);
                } catch (SQLException ignored) {
                    // already released with a rollback of the whole transaction
                }
            }
        }
    }
}
