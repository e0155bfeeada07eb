package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** A team is created by an owner, or appears when a login's teams claim names it for the first time. */
public record CreateTeamCommand(
        @TargetAggregateIdentifier String name,
        String description,
        IdentitySource source,
        Actor actor) {
}
