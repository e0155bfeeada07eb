package dev.atelier.config;

import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.StreamableMessageSource;
import org.axonframework.monitoring.NoOpMessageMonitor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.stereotype.Component;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Rebuilds (replays) a projection with a larger batch than its live processor uses.
 *
 * <p>Why a second processor: Axon fixes a pooled processor's batch size when it builds it, and the size that suits
 * live processing (small, so watchers see a change soon after it is stored) is not the one that suits a replay
 * (large, so a million events cost a few thousand transactions and token updates instead of a million). A replay
 * therefore stops the live processor, resets its tokens (its reset handlers empty the read model, as before), and
 * runs a processor of the same name over the same handlers, interceptors (dead letters, savepoints), token store,
 * transaction manager and error handler, with {@code atelier.projections.replay-batch-size}. Once every segment
 * has reached the head of the event store as it was when the replay began, the replay processor stops (releasing its
 * claims; its tokens are stored with each batch) and the live processor starts again from those tokens.
 *
 * <p>Crash safety does not depend on this class: every batch commits its read-model changes and its token together,
 * so an engine that dies during a replay resumes from the last committed batch with its live processor (at the live
 * batch size), losing and doubling nothing. Only pooled processors are replayed this way; any other kind (the audit
 * trail's tracking processor, which has its own batch size) is reset and started as it is.
 */
@Component
@EnableConfigurationProperties(ProjectionReplays.ReplaySettings.class)
public class ProjectionReplays implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(ProjectionReplays.class);

    /**
     * @param replayBatchSize events per transaction (and token update) while a projection is rebuilt; the live
     *                        size is {@code axon.eventhandling.processors.<group>.batch-size}
     * @param checkInterval   how often a running replay is checked for having reached the head
     */
    @ConfigurationProperties("atelier.projections")
    public record ReplaySettings(@DefaultValue("500") int replayBatchSize,
                                 @DefaultValue("PT0.2S") java.time.Duration checkInterval) {
        public ReplaySettings {
            if (replayBatchSize < 1) {
                throw new IllegalArgumentException("atelier.projections.replay-batch-size must be at least 1");
            }
        }
    }

    private final Configuration axon;
    private final ReplaySettings settings;
    private final Map<String, Replay> replays = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "projection-replays");
        t.setDaemon(true);
        return t;
    });

    public ProjectionReplays(Configuration axon, ReplaySettings settings) {
        this.axon = axon;
        this.settings = settings;
    }

    /** Replays {@code group} with the configured replay batch size. */
    public StreamingEventProcessor replay(String group) {
        return replay(group, settings.replayBatchSize());
    }

    /**
     * Replays {@code group} from the first event with {@code batchSize} events per transaction, and returns the
     * processor doing it (the live one for a processor that is not pooled). The live processor starts again after
     * the replay only if it was running when the replay began.
     */
    public synchronized StreamingEventProcessor replay(String group, int batchSize) {
        EventProcessingConfiguration processing = axon.eventProcessingConfiguration();
        StreamingEventProcessor live = processing.eventProcessor(group, StreamingEventProcessor.class)
                .orElseThrow(() -> new IllegalStateException("no streaming processor '" + group + "'"));
        Replay running = replays.remove(group);
        boolean restartLive = live.isRunning() || (running != null && running.restartLive);
        if (running != null) {
            running.processor.shutDown();
        }
        live.shutDown();
        live.resetTokens();
        if (!(live instanceof PooledStreamingEventProcessor pooled)) {
            live.start();
            return live;
        }
        StreamableMessageSource<TrackedEventMessage<?>> source = axon.eventStore();
        TrackingToken headToken = source.createHeadToken();
        long head = headToken == null ? -1 : headToken.position().orElse(-1);
        TokenStore tokens = processing.tokenStore(group);
        TransactionManager transactions = processing.transactionManager(group);
        ScheduledExecutorService coordinator = Executors.newSingleThreadScheduledExecutor(
                r -> new Thread(r, "replay-coordinator[" + group + "]"));
        ScheduledExecutorService workers = Executors.newScheduledThreadPool(4,
                r -> new Thread(r, "replay-worker[" + group + "]"));
        PooledStreamingEventProcessor replayer = PooledStreamingEventProcessor.builder()
                .name(group)
                .eventHandlerInvoker(pooled.eventHandlerInvoker())
                .rollbackConfiguration(processing.rollbackConfiguration(group))
                .errorHandler(processing.errorHandler(group))
                .messageMonitor(NoOpMessageMonitor.INSTANCE)
                .messageSource(source)
                .tokenStore(tokens)
                .transactionManager(transactions)
                .coordinatorExecutor(coordinator)
                .workerExecutor(workers)
                .batchSize(batchSize)
                .build();
        for (MessageHandlerInterceptor<? super EventMessage<?>> interceptor : pooled.getHandlerInterceptors()) {
            replayer.registerHandlerInterceptor(interceptor);
        }
        Replay replay = new Replay(group, replayer, live, head, tokens, transactions, restartLive, coordinator, workers);
        replays.put(group, replay);
        replayer.start();
        log.info("{}: replaying up to event {} with batches of {}", group, head, batchSize);
        replay.check = watcher.scheduleWithFixedDelay(() -> finishIfCaughtUp(replay),
                settings.checkInterval().toMillis(), settings.checkInterval().toMillis(), TimeUnit.MILLISECONDS);
        return replayer;
    }

    /** The processor that is rebuilding {@code group} now, if any. */
    public Optional<StreamingEventProcessor> replaying(String group) {
        return Optional.ofNullable(replays.get(group)).map(r -> r.processor);
    }

    private void finishIfCaughtUp(Replay replay) {
        try {
            if (replays.get(replay.group) != replay || !replay.caughtUp()) {
                return;
            }
            synchronized (this) {
                if (!replays.remove(replay.group, replay)) {
                    return;
                }
                replay.stop();
                if (replay.restartLive) {
                    replay.live.start();
                }
            }
            log.info("{}: replay reached event {}; live processing goes on from there", replay.group, replay.head);
        } catch (RuntimeException e) {
            log.warn("{}: checking the replay failed: {}", replay.group, e.toString());
        }
    }

    @Override
    public void destroy() {
        watcher.shutdownNow();
        replays.values().forEach(Replay::stop);
        replays.clear();
    }

    private static final class Replay {
        final String group;
        final PooledStreamingEventProcessor processor;
        final StreamingEventProcessor live;
        final long head;
        final TokenStore tokens;
        final TransactionManager transactions;
        final boolean restartLive;
        final ScheduledExecutorService coordinator;
        final ScheduledExecutorService workers;
        volatile java.util.concurrent.ScheduledFuture<?> check;

        Replay(String group, PooledStreamingEventProcessor processor, StreamingEventProcessor live, long head,
               TokenStore tokens, TransactionManager transactions, boolean restartLive, ScheduledExecutorService coordinator,
               ScheduledExecutorService workers) {
            this.group = group;
            this.processor = processor;
            this.live = live;
            this.head = head;
            this.tokens = tokens;
            this.transactions = transactions;
            this.restartLive = restartLive;
            this.coordinator = coordinator;
            this.workers = workers;
        }

        /** Every segment claimed and past the head as it was when the replay began. */
        boolean caughtUp() {
            if (!processor.isRunning() || processor.isError()) {
                return false;
            }
            Map<Integer, EventTrackerStatus> status = processor.processingStatus();
            int segments = transactions.fetchInTransaction(() -> tokens.fetchSegments(group)).length;
            return status.size() == segments && status.values().stream()
                    .allMatch(s -> !s.isErrorState() && s.getCurrentPosition().orElse(-1) >= head);
        }

        void stop() {
            if (check != null) {
                check.cancel(false);
            }
            processor.shutDown();
            coordinator.shutdownNow();
            workers.shutdownNow();
        }
    }
}
