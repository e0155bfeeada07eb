package dev.atelier.bench;

import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's provider: every operation is done at once and touches nothing, so that what the benchmark
 * measures is the control plane alone. It lives in the test sources only and is not a Spring component: nothing
 * but {@link BenchEngine} registers it, so neither a production build nor the other tests can ever enable it.
 */
public final class NullProvider implements WorkspaceProvider {

    public static final String NAME = "null";
    private final AtomicLong calls = new AtomicLong();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        return spec.keySet().stream().map(k -> "spec key '" + k + "' is unknown: the null provider takes no keys").toList();
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        return done(request);
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        return done(request);
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        return done(request);
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        return done(request);
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        return done(request);
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        return new ResourceDescription("null-" + request.workspaceId(), ResourceDescription.State.RUNNING,
                request.labels(), Map.of());
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        return List.of();
    }

    public long calls() {
        return calls.get();
    }

    private ProviderOperation done(ProvisionRequest request) {
        calls.incrementAndGet();
        return ProviderOperation.done("null-" + request.workspaceId(), Map.of("type", "null"));
    }
}
