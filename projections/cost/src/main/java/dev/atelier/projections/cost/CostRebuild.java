package dev.atelier.projections.cost;

import dev.atelier.config.ProjectionReplays;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.messaging.StreamableMessageSource;
import org.springframework.stereotype.Component;

import java.util.Map;

/**
 * Rebuilds the cost read model from the event store: stops the {@code costs} processor, resets its position (the
 * reset handler empties the cost tables) and replays every event from the first in larger batches
 * ({@link ProjectionReplays}), after which the live processor goes on. In a
 * cluster the other nodes must not be processing 'costs' meanwhile (docs/costs.md).
 */
@Component
public class CostRebuild {

    private final EventProcessingConfiguration processing;
    private final StreamableMessageSource<TrackedEventMessage<?>> events;
    private final ProjectionReplays replays;

    public CostRebuild(EventProcessingConfiguration processing, EventStore events, ProjectionReplays replays) {
        this.processing = processing;
        this.events = events;
        this.replays = replays;
    }

    /** With the replay batch size ({@link ProjectionReplays}); live processing resumes once the replay is done. */
    public synchronized void rebuild() {
        replays.replay(CostProjection.PROCESSING_GROUP);
    }

    /**
     * Where the processor is against the event store's head. {@code caughtUp}: every segment has handled every event
     * that was stored when asked (Axon's own "replaying" flag can stay on long after, while the event store has gaps).
     */
    public Status status() {
        StreamingEventProcessor processor = processor();
        long head = events.createHeadToken() == null ? -1 : events.createHeadToken().position().orElse(-1);
        Map<Integer, EventTrackerStatus> segments = processor.processingStatus();
        boolean replaying = segments.values().stream().anyMatch(EventTrackerStatus::isReplaying);
        long position = segments.values().stream()
                .mapToLong(s -> s.getCurrentPosition().orElse(-1)).min().orElse(-1);
        boolean caughtUp = processor.isRunning() && !segments.isEmpty() && position >= head;
        return new Status(CostProjection.PROCESSING_GROUP, processor.isRunning(), replaying, position, head, caughtUp,
                segments.size());
    }

    private StreamingEventProcessor processor() {
        java.util.Optional<StreamingEventProcessor> replaying = replays.replaying(CostProjection.PROCESSING_GROUP);
        if (replaying.isPresent()) {
            return replaying.get();
        }
        return processing.eventProcessor(CostProjection.PROCESSING_GROUP, StreamingEventProcessor.class)
                .orElseThrow(() -> new IllegalStateException("no streaming processor '" + CostProjection.PROCESSING_GROUP
                        + "'"));
    }

    public record Status(String processor, boolean running, boolean replaying, long position, long head,
                         boolean caughtUp, int segments) {
    }
}
