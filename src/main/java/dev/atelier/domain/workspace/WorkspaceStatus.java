package dev.atelier.domain.workspace;

public enum WorkspaceStatus {
    PENDING, STARTING, RUNNING, STOPPING, STOPPED, DELETING, DELETED, FAILED;

    public boolean inTransition() {
        return this == STARTING || this == STOPPING || this == DELETING;
    }

    /** Whether activity (heartbeats) is taken: the workspace runs or is starting (its agent may report early). */
    public boolean takesActivity() {
        return this == RUNNING || this == STARTING;
    }
}
