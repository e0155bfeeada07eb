package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.serialization.Revision;

@Revision("1")
public record TeamCreatedEvent(
        String name,
        String description,
        IdentitySource source,
        Actor actor) {
}
