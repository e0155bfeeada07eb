package dev.atelier.lifecycle;

import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A provider whose operations stay in progress until the test opens the gate, and which records every call: lets a
 * test stop the engine in the middle of a transition. (The boundary double; the engine around it is real.)
 */
public class GatedProvider implements WorkspaceProvider {

    public record Call(String operation, String idempotencyKey) {
    }

    public final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicBoolean open = new AtomicBoolean();

    public void open() {
        open.set(true);
    }

    public long count(String operation, String idempotencyKey) {
        return calls.stream().filter(c -> c.operation().equals(operation) && c.idempotencyKey().equals(idempotencyKey))
                .count();
    }

    @Override
    public String name() {
        return "gated";
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        return List.of();
    }

    private ProviderOperation record(String operation, ProvisionRequest request) {
        calls.add(new Call(operation, request.idempotencyKey()));
        return open.get() ? ProviderOperation.done("gated-" + request.workspaceId(), Map.of("type", "gated"))
                : ProviderOperation.inProgress("gated-" + request.workspaceId(), "op-" + request.idempotencyKey(),
                Duration.ofMillis(200));
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        return record("create", request);
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        return record("start", request);
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        return record("stop", request);
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        return record("delete", request);
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        return record("poll", request);
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        return new ResourceDescription("gated-" + request.workspaceId(), ResourceDescription.State.UNKNOWN, Map.of(), Map.of());
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        return List.of();
    }
}
