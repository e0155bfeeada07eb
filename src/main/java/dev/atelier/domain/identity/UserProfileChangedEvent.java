package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.serialization.Revision;

import java.util.Set;

/** Name, email or roles changed at a login (the identity provider's claims say so now). */
@Revision("1")
public record UserProfileChangedEvent(
        String userId,
        String name,
        String email,
        Set<String> roles,
        Actor actor) {
}
