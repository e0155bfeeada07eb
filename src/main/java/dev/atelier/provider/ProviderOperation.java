package dev.atelier.provider;

import java.time.Duration;
import java.util.Map;

/**
 * The answer of a provider call: done, or still in progress and to be polled after {@code pollAfter} with
 * {@code operationId}, which the engine stores as it is and hands back to {@link WorkspaceProvider#poll}. Providers
 * write it with {@link OperationId} (see {@link #inProgress(String, OperationId, Duration)}).
 */
public record ProviderOperation(boolean done, String resourceId, String operationId, Duration pollAfter,
                                Map<String, String> connection) {

    public ProviderOperation {
        connection = connection == null ? Map.of() : Map.copyOf(connection);
    }

    public static ProviderOperation done(String resourceId, Map<String, String> connection) {
        return new ProviderOperation(true, resourceId, null, null, connection);
    }

    public static ProviderOperation inProgress(String resourceId, OperationId operation, Duration pollAfter) {
        return inProgress(resourceId, operation.encode(), pollAfter);
    }

    /** With an operation id of the provider's own making; new code writes an {@link OperationId}. */
    public static ProviderOperation inProgress(String resourceId, String operationId, Duration pollAfter) {
        return new ProviderOperation(false, resourceId, operationId, pollAfter, Map.of());
    }
}
