package dev.atelier.projections.cost;

import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.springframework.stereotype.Component;

import java.util.Map;

/**
 * Rebuilds the cost read model from the event store: stops the {@code costs} processor, resets its position (the
 * reset handler empties the cost tables) and starts it again, so it replays every event from the first. In a
 * cluster the other nodes must not be processing 'costs' meanwhile (docs/costs.md).
 */
@Component
public class CostRebuild {

    private final EventProcessingConfiguration processing;

    public CostRebuild(EventProcessingConfiguration processing) {
        this.processing = processing;
    }

    public synchronized void rebuild() {
        StreamingEventProcessor processor = processor();
        processor.shutDown();
        try {
            processor.resetTokens();
        } finally {
            processor.start();
        }
    }

    /** Whether the processor is still replaying, and whether it has caught up with the event store. */
    public Status status() {
        StreamingEventProcessor processor = processor();
        Map<Integer, EventTrackerStatus> segments = processor.processingStatus();
        boolean replaying = segments.values().stream().anyMatch(EventTrackerStatus::isReplaying);
        boolean caughtUp = !segments.isEmpty() && segments.values().stream().allMatch(EventTrackerStatus::isCaughtUp);
        return new Status(CostProjection.PROCESSING_GROUP, processor.isRunning(), replaying, caughtUp && !replaying,
                segments.size());
    }

    private StreamingEventProcessor processor() {
        return processing.eventProcessor(CostProjection.PROCESSING_GROUP, StreamingEventProcessor.class)
                .orElseThrow(() -> new IllegalStateException("no streaming processor '" + CostProjection.PROCESSING_GROUP
                        + "'"));
    }

    public record Status(String processor, boolean running, boolean replaying, boolean caughtUp, int segments) {
    }
}
