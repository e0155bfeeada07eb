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
import java.util.Deque;

/**
 * A savepoint around the handling of each event by a processor with a dead-letter queue. A streaming processor
 * handles a batch of events in one transaction; on PostgreSQL one failed statement aborts that transaction, so
 * without this the dead letter could not be stored and every other event of the batch would be lost with it.
 * {@link DeadLetterPolicy} rolls back to this savepoint before the event is parked: the event's own changes go,
 * the batch goes on.
 */
final class EventSavepoints implements MessageHandlerInterceptor<EventMessage<?>> {

    private static final ThreadLocal<Deque<Frame>> FRAMES = ThreadLocal.withInitial(ArrayDeque::new);

    private final DataSource dataSource;

    EventSavepoints(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The savepoint of the event being handled on this thread. */
    static final class Frame {
        private final Connection connection;
        private final Savepoint savepoint;
        private boolean rolledBack;
        private java.util.List<Runnable> undos;

        Frame(Connection connection, Savepoint savepoint) {
            this.connection = connection;
            this.savepoint = savepoint;
        }

        /** Undoes what handling this event changed; the transaction can be used again. */
        void rollBack() {
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
            if (undos == null) {
                undos = new java.util.ArrayList<>(2);
            }
            undos.add(undo);
        }
    }

    /** The frame of the event being handled by a processor on this thread, or null (e.g. a dead letter's retry). */
    static Frame current() {
        return FRAMES.get().peek();
    }

    @Override
    public Object handle(@Nonnull UnitOfWork<? extends EventMessage<?>> unitOfWork,
                         @Nonnull InterceptorChain interceptorChain) throws Exception {
        ConnectionHolder holder = (ConnectionHolder) TransactionSynchronizationManager.getResource(dataSource);
        if (holder == null || !TransactionSynchronizationManager.isActualTransactionActive()) {
            return interceptorChain.proceed();
        }
        Connection connection = holder.getConnection();
        Frame frame = new Frame(connection, connection.setSavepoint());
        FRAMES.get().push(frame);
        try {
            return interceptorChain.proceed();
        } catch (Exception | Error e) {
            try {
                frame.rollBack();
            } catch (RuntimeException ignored) {
                // the transaction itself is gone; the batch fails and is retried
            }
            throw e;
        } finally {
            FRAMES.get().pop();
            try {
                connection.releaseSavepoint(frame.savepoint);
            } catch (SQLException ignored) {
                // already released with a rollback of the whole transaction
            }
        }
    }
}
