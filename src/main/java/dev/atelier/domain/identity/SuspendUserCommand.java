package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** An owner suspends a user: their tokens and sessions stop working, their running workspaces stop. */
public record SuspendUserCommand(
        @TargetAggregateIdentifier String userId,
        Actor actor) {
}
