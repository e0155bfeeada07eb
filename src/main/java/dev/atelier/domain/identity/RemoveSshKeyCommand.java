package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** A user removes one of their SSH public keys. */
public record RemoveSshKeyCommand(
        @TargetAggregateIdentifier String userId,
        String keyId,
        Actor actor) {
}
