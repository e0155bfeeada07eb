package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** An owner puts a user into a team ({@code member} true) or takes them out of it. */
public record ChangeTeamMembershipCommand(
        @TargetAggregateIdentifier String userId,
        String team,
        boolean member,
        Actor actor) {
}
