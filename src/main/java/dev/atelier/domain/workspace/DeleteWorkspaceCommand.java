package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Deletes from any state; with {@code force} the record goes even if the provider cannot remove the resource. */
public record DeleteWorkspaceCommand(
        @TargetAggregateIdentifier String workspaceId,
        boolean force,
        TransitionReason reason,
        Actor actor) {
}
