package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.serialization.Revision;

/** A public key (not a secret: it is what the SSH gateway checks a client's signature against). */
@Revision("1")
public record SshKeyAddedEvent(
        String userId,
        String keyId,
        String name,
        String type,
        int bits,
        String fingerprint,
        String publicKey,
        Actor actor) {
}
