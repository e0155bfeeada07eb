package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.serialization.Revision;

@Revision("1")
public record UserActivatedEvent(
        String userId,
        Actor actor) {
}
