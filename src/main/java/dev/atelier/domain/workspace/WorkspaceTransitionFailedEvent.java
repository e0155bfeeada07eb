package dev.atelier.domain.workspace;

import org.axonframework.serialization.Revision;

@Revision("1")
public record WorkspaceTransitionFailedEvent(
        String workspaceId,
        long buildNumber,
        Transition transition,
        String error) {
}
