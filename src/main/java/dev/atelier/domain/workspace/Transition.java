package dev.atelier.domain.workspace;

/** A change of a workspace's state that a provider carries out; each one gets the next build number. */
public enum Transition {
    START(WorkspaceStatus.STARTING, WorkspaceStatus.RUNNING),
    STOP(WorkspaceStatus.STOPPING, WorkspaceStatus.STOPPED),
    DELETE(WorkspaceStatus.DELETING, WorkspaceStatus.DELETED);

    private final WorkspaceStatus during;
    private final WorkspaceStatus after;

    Transition(WorkspaceStatus during, WorkspaceStatus after) {
        this.during = during;
        this.after = after;
    }

    public WorkspaceStatus during() {
        return during;
    }

    public WorkspaceStatus after() {
        return after;
    }
}
