package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import java.util.Set;

/**
 * A login through the identity provider: name, email, roles and the provider's teams as its claims say now. Only
 * what changed becomes an event; teams an owner added stay.
 */
public record SyncUserCommand(
        @TargetAggregateIdentifier String userId,
        String name,
        String email,
        Set<String> roles,
        Set<String> teams,
        Actor actor) {
}
