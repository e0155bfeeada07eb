package dev.atelier.config;

import org.axonframework.common.stream.BlockingStream;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingEventStream;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.messaging.StreamableMessageSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;

/**
 * The event store as the pooled processors see it, with a wake-up when new events are there.
 *
 * <p>A pooled streaming processor that has caught up asks its event stream to call it back when events arrive; the
 * streams of Axon's {@link EmbeddedEventStore} (JDBC) cannot, so without this the processor looks again every
 * 500 ms, and every hop of a transition (saga, projection, SSE) waited up to half a second, measured by the
 * benchmark (docs/benchmarks.md). Here one thread tails the store — it is woken by the store itself when this node
 * commits events, and sees other nodes' events within the store's fetch delay — and calls back every waiting
 * processor as soon as anything new is readable. Everything else is passed through unchanged.
 */
final class PromptEventStreams implements StreamableMessageSource<TrackedEventMessage<?>>, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PromptEventStreams.class);

    private final EmbeddedEventStore store;
    private final Set<Runnable> callbacks = new CopyOnWriteArraySet<>();
    private volatile Thread watcher;
    private volatile boolean closed;

    PromptEventStreams(EmbeddedEventStore store) {
        this.store = store;
    }

    @Override
    public BlockingStream<TrackedEventMessage<?>> openStream(TrackingToken trackingToken) {
        return new Stream(store.openStream(trackingToken));
    }

    @Override
    public TrackingToken createTailToken() {
        return store.createTailToken();
    }

    @Override
    public TrackingToken createHeadToken() {
        return store.createHeadToken();
    }

    @Override
    public TrackingToken createTokenAt(Instant dateTime) {
        return store.createTokenAt(dateTime);
    }

    @Override
    public TrackingToken createTokenSince(Duration duration) {
        return store.createTokenSince(duration);
    }

    private synchronized void ensureWatching() {
        if (watcher != null || closed) {
            return;
        }
        Thread t = new Thread(this::watch, "atelier-event-watcher");
        t.setDaemon(true);
        watcher = t;
        t.start();
    }

    private void watch() {
        TrackingEventStream tail = null;
        while (!closed) {
            try {
                if (tail == null) {
                    tail = store.openStream(store.createHeadToken());
                }
                if (tail.hasNextAvailable(1, TimeUnit.SECONDS)) {
                    // at most a cache-full at a time, so that a steady stream of events cannot hold the call-backs
                    for (int n = 0; n < 1024 && tail.hasNextAvailable(); n++) {
                        tail.nextAvailable();
                    }
                    callbacks.forEach(Runnable::run);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                // The store is unreachable for a moment: the processors still poll on their own meanwhile.
                log.debug("event watcher: {}", e.toString());
                if (tail != null) {
                    tail.close();
                    tail = null;
                }
                sleepQuietly();
            }
        }
        if (tail != null) {
            tail.close();
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t = watcher;
        if (t != null) {
            t.interrupt();
        }
    }

    /** A processor's stream: the store's, plus the call-back registration. */
    private final class Stream implements BlockingStream<TrackedEventMessage<?>> {

        private final TrackingEventStream delegate;
        private Runnable callback;

        Stream(TrackingEventStream delegate) {
            this.delegate = delegate;
        }

        @Override
        public Optional<TrackedEventMessage<?>> peek() {
            return delegate.peek();
        }

        @Override
        public boolean hasNextAvailable(int timeout, TimeUnit unit) throws InterruptedException {
            return delegate.hasNextAvailable(timeout, unit);
        }

        @Override
        public boolean hasNextAvailable() {
            return delegate.hasNextAvailable();
        }

        @Override
        public TrackedEventMessage<?> nextAvailable() throws InterruptedException {
            return delegate.nextAvailable();
        }

        @Override
        public void skipMessagesWithPayloadTypeOf(TrackedEventMessage<?> ignoredMessage) {
            delegate.skipMessagesWithPayloadTypeOf(ignoredMessage);
        }

        @Override
        public boolean setOnAvailableCallback(Runnable callback) {
            if (this.callback != null) {
                callbacks.remove(this.callback);
            }
            this.callback = callback;
            callbacks.add(callback);
            ensureWatching();
            return true;
        }

        @Override
        public void close() {
            if (callback != null) {
                callbacks.remove(callback);
            }
            delegate.close();
        }
    }
}
