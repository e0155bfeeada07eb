package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.serialization.Revision;

import java.util.Set;

@Revision("1")
public record UserRegisteredEvent(
        String userId,
        String name,
        String email,
        Set<String> roles,
        Set<String> teams,
        IdentitySource source,
        Actor actor) {
}
