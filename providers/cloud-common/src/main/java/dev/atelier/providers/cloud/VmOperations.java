package dev.atelier.providers.cloud;

/**
 * The {@link dev.atelier.provider.OperationId} kinds that every VM provider uses; a provider adds the names of its
 * cloud's own long-running operations (with the cloud's handle), such as {@code insert} or {@code deallocate}.
 */
public final class VmOperations {

    /** The VM is being created or started: poll until it runs. */
    public static final String AWAIT_RUNNING = "await-running";
    /** The VM is stopping (stopped, terminated, deallocated): poll until it is. */
    public static final String AWAIT_STOPPED = "await-stopped";
    /** The VM is being deleted: poll until it is gone. */
    public static final String AWAIT_DELETED = "await-deleted";
    /** The VM could not be started yet (it was still stopping): ask for the start again. */
    public static final String START_AGAIN = "start-again";
    /** The VM could not be stopped yet (it was still starting): ask for the stop again. */
    public static final String STOP_AGAIN = "stop-again";

    private VmOperations() {
    }
}
