package dev.atelier.domain.workspace;

/** Why a transition was asked for: by a person, a client, or one of the engine's automatic policies. */
public enum TransitionReason {
    USER, API, AUTOSTART, IDLE, MAX_LIFETIME, BUDGET, SCHEDULE, DORMANCY, SYSTEM
}
