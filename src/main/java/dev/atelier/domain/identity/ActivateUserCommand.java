package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** An owner reactivates a suspended user. */
public record ActivateUserCommand(
        @TargetAggregateIdentifier String userId,
        Actor actor) {
}
