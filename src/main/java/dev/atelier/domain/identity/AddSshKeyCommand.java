package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** A user registers an SSH public key, already parsed and validated by the API (type, size, fingerprint). */
public record AddSshKeyCommand(
        @TargetAggregateIdentifier String userId,
        String keyId,
        String name,
        String type,
        int bits,
        String fingerprint,
        String publicKey,
        Actor actor) {
}
