package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.util.Map;
import org.axonframework.serialization.Revision;

/** A numbered transition (build) began; the lifecycle saga carries it out. */
@Revision("1")
public record WorkspaceTransitionStartedEvent(
        String workspaceId,
        long buildNumber,
        Transition transition,
        TransitionReason reason,
        Actor actor,
        String templateId,
        int templateVersion,
        String provider,
        String resourceId,
        boolean force,
        String owner,
        Map<String, String> parameters) {
}
