package dev.atelier.providers.cloud;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drives a provider against a real cloud the way the engine's saga does (call, poll after {@code pollAfter}, retry
 * what is retryable), for the live tests that run only when cloud credentials are in the environment. A workspace
 * that was created is always deleted, also when an assertion fails.
 */
public final class LiveLifecycle {

    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(10);

    private LiveLifecycle() {
    }

    /** create → running (connection has an SSH host) → stop → start → delete → not in the inventory any more. */
    public static void run(WorkspaceProvider provider, Map<String, Object> spec) {
        assertThat(provider.validateSpec(spec)).as("the live test's spec").isEmpty();
        String workspaceId = "live-" + UUID.randomUUID().toString().substring(0, 8);
        String[] resource = {null};
        try {
            ProviderOperation created = drive(provider, r -> provider.create(r), VmRequests.starting(workspaceId, 1, null, spec), resource);
            assertThat(created.connection()).containsKey("sshHost");
            assertThat(provider.describe(VmRequests.other(workspaceId, 1, resource[0], spec)).state())
                    .isEqualTo(ResourceDescription.State.RUNNING);
            assertThat(provider.inventory(Map.of("atelier-workspace-id", workspaceId))).hasSize(1);
            drive(provider, r -> provider.stop(r), VmRequests.other(workspaceId, 2, resource[0], spec), resource);
            assertThat(provider.describe(VmRequests.other(workspaceId, 2, resource[0], spec)).state())
                    .isEqualTo(ResourceDescription.State.STOPPED);
            ProviderOperation started = drive(provider, r -> provider.start(r), VmRequests.starting(workspaceId, 3, resource[0], spec), resource);
            assertThat(started.connection()).containsKey("sshHost");
        } finally {
            drive(provider, r -> provider.delete(r), VmRequests.other(workspaceId, 4, resource[0], spec), resource);
        }
        assertThat(provider.inventory(Map.of("atelier-workspace-id", workspaceId))).isEmpty();
    }

    private static ProviderOperation drive(WorkspaceProvider provider, Function<ProvisionRequest, ProviderOperation> call,
                                           ProvisionRequest request, String[] resource) {
        Instant deadline = Instant.now().plus(STEP_TIMEOUT);
        ProvisionRequest current = request;
        String operation = null;
        int retries = 0;
        while (true) {
            try {
                ProviderOperation result = operation == null ? call.apply(current) : provider.poll(current, operation);
                if (result.resourceId() != null) {
                    resource[0] = result.resourceId();
                    current = new ProvisionRequest(current.workspaceId(), current.buildNumber(), current.owner(),
                            result.resourceId(), current.spec(), current.parameters(), current.labels(), current.agent());
                }
                if (result.done()) {
                    return result;
                }
                operation = result.operationId();
                sleep(result.pollAfter() == null ? Duration.ofSeconds(5) : result.pollAfter());
            } catch (ProviderException e) {
                if (!e.retryable() || ++retries > 5) {
                    throw e;
                }
                sleep(Duration.ofSeconds(5L * retries));
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("the step did not finish within " + STEP_TIMEOUT);
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(Math.max(duration.toMillis(), 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static String env(String name, String defaultValue) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? defaultValue : value;
    }
}
