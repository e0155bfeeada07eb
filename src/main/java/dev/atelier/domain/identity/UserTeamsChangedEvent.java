package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import org.axonframework.serialization.Revision;

import java.util.Set;

/**
 * A user's teams changed, by a login ({@code source} OIDC) or by an owner ({@code OWNER}). {@code teams} is the
 * whole set afterwards; {@code added} and {@code removed} say what changed.
 */
@Revision("1")
public record UserTeamsChangedEvent(
        String userId,
        Set<String> teams,
        Set<String> added,
        Set<String> removed,
        IdentitySource source,
        Actor actor) {
}
