package dev.atelier.domain.shared;

import java.util.Objects;

/** Who or what asked for a change: a person, an API token, a workspace agent or the engine itself. */
public record Actor(
        String id,
        ActorType type) {

    public static final Actor SYSTEM = new Actor("atelier", ActorType.SYSTEM);

    public Actor {
        Objects.requireNonNull(id, "actor id");
        Objects.requireNonNull(type, "actor type");
    }

    public static Actor user(String id) {
        return new Actor(id, ActorType.USER);
    }

    public enum ActorType { USER, API_TOKEN, AGENT, SYSTEM }
}
