package dev.atelier.domain.workspace;

public enum WorkspaceStatus {
    PENDING, STARTING, RUNNING, STOPPING, STOPPED, DELETING, DELETED, FAILED;

    public boolean inTransition() {
        return this == STARTING || this == STOPPING || this == DELETING;
    }
}
