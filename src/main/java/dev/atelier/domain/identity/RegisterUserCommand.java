package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import java.util.Set;

/** A user appears: on the first login through the identity provider, or created by an owner. */
public record RegisterUserCommand(
        @TargetAggregateIdentifier String userId,
        String name,
        String email,
        Set<String> roles,
        Set<String> teams,
        IdentitySource source,
        Actor actor) {
}
