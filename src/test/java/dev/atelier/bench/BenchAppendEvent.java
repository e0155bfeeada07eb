package dev.atelier.bench;

import java.util.Map;
import org.axonframework.serialization.Revision;

/**
 * The event the append phase stores: the shape and size of a {@code WorkspaceTransitionStartedEvent}, but a type no
 * handler of the engine knows.
 */
@Revision("1")
public record BenchAppendEvent(String workspaceId, long buildNumber, String transition, String reason, String actorId,
                               String templateId, int templateVersion, String provider, String resourceId,
                               boolean force, String owner, Map<String, String> parameters) {
}
