package dev.atelier.domain.workspace;

/** What reconciliation found of a workspace's resource, behind the engine's back. */
public enum DriftFinding {
    /** The resource exists but is not running (stopped outside Atelier). */
    STOPPED,
    /** The resource is not there any more (deleted outside Atelier). */
    GONE
}
