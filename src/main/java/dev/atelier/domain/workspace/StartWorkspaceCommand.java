package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

public record StartWorkspaceCommand(
        @TargetAggregateIdentifier String workspaceId,
        TransitionReason reason,
        Actor actor) {
}
