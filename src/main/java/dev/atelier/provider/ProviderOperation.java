package dev.atelier.provider;

import java.time.Duration;
import java.util.Map;

/** The answer of a provider call: done, or still in progress and to be polled after {@code pollAfter}. */
public record ProviderOperation(boolean done, String resourceId, String operationId, Duration pollAfter,
                                Map<String, String> connection) {

    public ProviderOperation {
        connection = connection == null ? Map.of() : Map.copyOf(connection);
    }

    public static ProviderOperation done(String resourceId, Map<String, String> connection) {
        return new ProviderOperation(true, resourceId, null, null, connection);
    }

    public static ProviderOperation inProgress(String resourceId, String operationId, Duration pollAfter) {
        return new ProviderOperation(false, resourceId, operationId, pollAfter, Map.of());
    }
}
