package dev.atelier.providers.azure;

import com.azure.core.http.HttpPipeline;
import com.azure.core.http.rest.Response;
import com.azure.core.util.Context;
import com.azure.resourcemanager.compute.ComputeManager;
import com.azure.resourcemanager.compute.fluent.VirtualMachinesClient;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineUpdateInner;
import com.azure.resourcemanager.compute.models.InstanceViewTypes;
import com.azure.resourcemanager.network.NetworkManager;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.providers.cloud.VmConnection;
import dev.atelier.providers.ssh.SshShells;
import dev.atelier.providers.cloud.ClientCache;
import dev.atelier.providers.cloud.CloudError;
import dev.atelier.providers.cloud.Idempotency;
import dev.atelier.providers.cloud.SpecRead;
import dev.atelier.providers.cloud.VmOperations;
import dev.atelier.providers.cloud.VmRef;
import dev.atelier.providers.cloud.VmWorkspaceProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Workspaces as Azure VMs, through the inner (REST-level) clients of {@code azure-resourcemanager-compute}. The VM
 * name is derived from the workspace id and created with one PUT, which is idempotent: a repeated PUT of the same
 * body answers with the same VM ({@link AzureVms} builds it). Stop is {@code deallocate} (no compute charges; the disk
 * stays); start replaces the user data (the new build's agent) first. Every change ARM accepts as a long-running
 * operation is returned in progress with the operation's status URL as handle ({@link ArmOperations}) and polled by
 * the engine. The resource id is the VM's ARM id.
 */
public class AzureVmWorkspaceProvider extends VmWorkspaceProvider<AzureVmWorkspaceProvider.Clients,
        AzureVmWorkspaceProvider.Ref, AzureVmSpec, VirtualMachineInner> {

    public static final String NAME = "azure-vm";
    private static final Logger log = LoggerFactory.getLogger(AzureVmWorkspaceProvider.class);
    private static final Pattern VM_ID = Pattern.compile("/subscriptions/(" + AzureVmSpec.GUID + ")/resourceGroups/("
            + AzureVmSpec.RESOURCE_GROUP + ")/providers/Microsoft\\.Compute/virtualMachines/([-\\w.]{1,64})",
            Pattern.CASE_INSENSITIVE);
    /** The long-running operations, by the step that began them; each is followed by a step of its own when done. */
    private static final String CREATE = "create";
    private static final String USER_DATA = "userData";
    private static final String START = "start";
    private static final String DEALLOCATE = "deallocate";
    private static final String DELETE = "delete";

    /** The clients of one subscription. */
    public record Clients(ComputeManager compute, NetworkManager network, HttpPipeline pipeline, String resourceManager) {
        VirtualMachinesClient vms() {
            return compute.serviceClient().getVirtualMachines();
        }
    }

    public AzureVmWorkspaceProvider(Function<String, Clients> clientFactory, Duration pollInterval,
                                    List<String> extraLocations, List<String> inventorySubscriptions, SshShells hop) {
        super(NAME, "VM", Ref::parse, ClientCache.perScope(clientFactory), pollInterval, AzureLocations.KNOWN, extraLocations,
                inventorySubscriptions, hop);
    }

    @Override
    protected SpecRead<AzureVmSpec> read(Map<String, Object> spec) {
        return AzureVmSpec.read(spec, locations());
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        AzureVmSpec spec = requireSpec(request);
        remember(spec.subscriptionId());
        Ref ref = new Ref(spec.subscriptionId(), spec.resourceGroup(), Idempotency.vmName(request.workspaceId(), 64));
        VirtualMachineInner vm = AzureVms.vm(request, spec, ref.name());
        Response<Flux<ByteBuffer>> response;
        try {
            response = change("PUT virtual machine", () -> vms(ref)
                    .createOrUpdateWithResponseAsync(ref.group(), ref.name(), vm, null, null));
        } catch (CloudError e) {
            if (!"PropertyChangeNotAllowed".equals(e.code())) {
                throw e;
            }
            // The VM exists with another build's custom data: an earlier build of this workspace created it.
            VirtualMachineInner existing = find(ref).orElseThrow(() -> e);
            if (existing.tags() == null || !request.workspaceId().equals(existing.tags().get(AzureVms.WORKSPACE_TAG))) {
                throw ProviderException.permanent("a VM named " + ref.name() + " exists in resource group "
                        + ref.group() + " but does not carry this workspace's tag; rename or delete it");
            }
            return takeOver(request, spec, ref, existing);
        }
        log.info("workspace {} build {}: creating VM {} ({}, {})", request.workspaceId(), request.buildNumber(),
                ref.id(), spec.vmSize(), spec.image());
        return follow(request, ref, CREATE, response);
    }

    @Override
    protected ProviderOperation carryOnStarting(ProvisionRequest request, AzureVmSpec spec, Ref ref, VirtualMachineInner vm) {
        String power = AzureVms.powerState(vm);
        switch (power) {
            case "running":
                return awaitRunning(request, ref, vm);
            case "starting", "":
                return inProgress(ref, VmOperations.AWAIT_RUNNING);
            case "stopping", "deallocating":
                return inProgress(ref, VmOperations.START_AGAIN);
            case "stopped", "deallocated": {
                // The new build's agent reaches the VM through its user data, which the per-boot hook fetches from IMDS.
                String userData = AzureVms.userData(request, spec);
                if (userData.equals(vm.userData())) {
                    return startVm(request, ref);
                }
                Response<Flux<ByteBuffer>> response = change("PATCH virtual machine user data", () -> vms(ref)
                        .updateWithResponseAsync(ref.group(), ref.name(),
                                new VirtualMachineUpdateInner().withUserData(userData), null, null));
                return follow(request, ref, USER_DATA, response);
            }
            default:
                throw unusable(ref, power);
        }
    }

    private ProviderOperation startVm(ProvisionRequest request, Ref ref) {
        Response<Flux<ByteBuffer>> response = change("POST start", () -> vms(ref)
                .startWithResponseAsync(ref.group(), ref.name()));
        log.info("workspace {} build {}: starting VM {}", request.workspaceId(), request.buildNumber(), ref.id());
        return follow(request, ref, START, response);
    }

    @Override
    protected ProviderOperation carryOnStopping(ProvisionRequest request, Ref ref, VirtualMachineInner vm) {
        switch (AzureVms.powerState(vm)) {
            case "deallocated":
                return stopped(ref);
            case "deallocating":
                return inProgress(ref, VmOperations.AWAIT_STOPPED);
            case "starting", "":
                return inProgress(ref, VmOperations.STOP_AGAIN);
            default: {
                // Deallocate, not power off: a deallocated VM costs nothing but its disk.
                Response<Flux<ByteBuffer>> response = change("POST deallocate", () -> vms(ref)
                        .deallocateWithResponseAsync(ref.group(), ref.name(), null));
                log.info("workspace {} build {}: deallocating VM {}", request.workspaceId(), request.buildNumber(), ref.id());
                return follow(request, ref, DEALLOCATE, response);
            }
        }
    }

    @Override
    protected ProviderOperation delete(ProvisionRequest request, Ref ref) {
        Response<Flux<ByteBuffer>> response;
        try {
            response = change("DELETE virtual machine", () -> vms(ref).deleteWithResponseAsync(ref.group(), ref.name(), null));
        } catch (CloudError.NotFound e) {
            return deleted();
        }
        if (response.getStatusCode() == 204) {
            return deleted();
        }
        log.info("workspace {} build {}: deleting VM {} with its disk, NIC and public IP", request.workspaceId(),
                request.buildNumber(), ref.id());
        return follow(request, ref, DELETE, response);
    }

    /** A long-running operation (its handle says where ARM reports on it), or what the VM's state says. */
    @Override
    protected ProviderOperation poll(ProvisionRequest request, OperationId operation) {
        Ref ref = ref(request.resourceId());
        if (operation.is(VmOperations.AWAIT_RUNNING)) {
            return awaitRunning(request, ref, find(ref).orElseThrow(() -> gone(ref)));
        }
        if (operation.is(VmOperations.AWAIT_STOPPED)) {
            return "deallocated".equals(AzureVms.powerState(find(ref).orElseThrow(() -> gone(ref))))
                    ? stopped(ref) : inProgress(ref, operation);
        }
        if (operation.handle() == null) {
            throw ProviderException.permanent("unknown azure-vm operation '" + operation + "'");
        }
        ArmOperations.Status status = ArmOperations.status(client(ref.subscription()), operation.handle());
        return switch (status.state()) {
            case IN_PROGRESS -> inProgress(ref, operation);
            case SUCCEEDED -> next(request, ref, operation.kind());
            case FAILED -> throw new ProviderException("Azure " + operation.kind() + " of VM " + ref.name() + " failed: "
                    + status.code() + ": " + status.message(), ArmOperations.RETRYABLE_CODES.contains(status.code()));
        };
    }

    /**
     * The ids of before {@link OperationId}: {@code await:running}, {@code await:deallocated}, {@code again:start},
     * {@code again:stop}, and {@code <step> <URL>} ({@code location:<step> <URL>} for a Location header).
     */
    @Override
    protected OperationId legacyOperation(String old) {
        switch (old) {
            case "await:running":
                return OperationId.of(VmOperations.AWAIT_RUNNING);
            case "await:deallocated":
                return OperationId.of(VmOperations.AWAIT_STOPPED);
            case "again:start":
                return OperationId.of(VmOperations.START_AGAIN);
            case "again:stop":
                return OperationId.of(VmOperations.STOP_AGAIN);
            default:
                int space = old.indexOf(' ');
                if (space < 0) {
                    return null;
                }
                String step = old.substring(0, space);
                boolean location = step.startsWith("location:");
                return OperationId.of(location ? step.substring("location:".length()) : step,
                        ArmOperations.legacyHandle(location, old.substring(space + 1)));
        }
    }

    /** What follows a long-running operation that succeeded. */
    private ProviderOperation next(ProvisionRequest request, Ref ref, String step) {
        return switch (step) {
            case CREATE, START -> awaitRunning(request, ref, find(ref).orElseThrow(() -> gone(ref)));
            case USER_DATA -> startVm(request, ref);
            case DEALLOCATE -> stopped(ref);
            case DELETE -> deleted();
            default -> throw ProviderException.permanent("unknown azure-vm operation step '" + step + "'");
        };
    }

    /** Follows the operation a PUT/PATCH/POST/DELETE answered with, or the next step when there is none. */
    private ProviderOperation follow(ProvisionRequest request, Ref ref, String step, Response<Flux<ByteBuffer>> response) {
        return ArmOperations.handle(response).map(handle -> inProgress(ref, OperationId.of(step, handle)))
                .orElseGet(() -> next(request, ref, step));
    }

    private ProviderOperation awaitRunning(ProvisionRequest request, Ref ref, VirtualMachineInner vm) {
        if (AzureVms.provisioningState(vm).startsWith("failed")) {
            throw ProviderException.permanent("Azure could not provision VM " + ref.name() + ": "
                    + AzureVms.statusMessage(vm, "ProvisioningState/"));
        }
        if ("running".equals(AzureVms.powerState(vm))) {
            AzureVmSpec spec = readSpec(request);
            return ProviderOperation.done(ref.id(), AzureVms.connection(client(ref.subscription()), ref, vm, spec.sshUser(), spec.sshPort()));
        }
        return inProgress(ref, VmOperations.AWAIT_RUNNING);
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        List<ResourceDescription> found = new ArrayList<>();
        for (String subscription : inventoryScopes()) {
            Clients c = client(subscription);
            ArmOperations.call("GET virtual machines", () -> Mono.fromCallable(() -> {
                for (VirtualMachineInner vm : c.vms().list("true", null, null, Context.NONE)) {
                    Map<String, String> tags = vm.tags() == null ? Map.of() : vm.tags();
                    if (tags.containsKey(AzureVms.WORKSPACE_TAG) && tags.entrySet().containsAll(labels.entrySet())) {
                        found.add(AzureVms.description(c, Ref.parse(vm.id()), vm, AzureVmSpec.DEFAULT_SSH_USER,
                                VmConnection.DEFAULT_SSH_PORT));
                    }
                }
                return Boolean.TRUE;
            }));
        }
        return found;
    }

    // --- helpers

    /** The VM is named after the workspace, in the spec's subscription and resource group. */
    @Override
    protected Optional<Ref> named(AzureVmSpec spec, String workspaceId) {
        return spec.subscriptionId() == null || spec.resourceGroup() == null ? Optional.empty()
                : Optional.of(new Ref(spec.subscriptionId(), spec.resourceGroup(), Idempotency.vmName(workspaceId, 64)));
    }

    @Override
    protected ResourceDescription describe(Ref ref, VirtualMachineInner vm, AzureVmSpec spec) {
        return AzureVms.description(client(ref.subscription()), ref, vm, spec.sshUser(), spec.sshPort());
    }

    @Override
    protected Optional<VirtualMachineInner> find(Ref ref) {
        try {
            return Optional.of(ArmOperations.call("GET virtual machine", () -> vms(ref).getByResourceGroupWithResponseAsync(
                    ref.group(), ref.name(), InstanceViewTypes.INSTANCE_VIEW)).getValue());
        } catch (CloudError.NotFound e) {
            return Optional.empty();
        }
    }

    /** A change ARM may accept as a long-running operation: the answer's headers say where to follow it. */
    private static Response<Flux<ByteBuffer>> change(String action, Supplier<Mono<Response<Flux<ByteBuffer>>>> call) {
        return ArmOperations.call(action, () -> ArmOperations.drained(call.get()));
    }

    private VirtualMachinesClient vms(Ref ref) {
        return client(ref.subscription()).vms();
    }

    /** A VM: its subscription, resource group and name. */
    record Ref(String subscription, String group, String name) implements VmRef {
        static Ref parse(String resourceId) {
            Matcher m = VmRef.match(VM_ID, resourceId, "an azure-vm resource id "
                    + "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name>)");
            return new Ref(m.group(1).toLowerCase(), m.group(2), m.group(3));
        }

        @Override
        public String id() {
            return "/subscriptions/" + subscription + "/resourceGroups/" + group
                    + "/providers/Microsoft.Compute/virtualMachines/" + name;
        }
    }
}
