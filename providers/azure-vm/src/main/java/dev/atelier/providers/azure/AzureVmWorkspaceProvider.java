package dev.atelier.providers.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.rest.Response;
import com.azure.core.management.SubResource;
import com.azure.core.management.exception.ManagementException;
import com.azure.core.util.Context;
import com.azure.core.util.FluxUtil;
import com.azure.resourcemanager.compute.ComputeManager;
import com.azure.resourcemanager.compute.fluent.VirtualMachinesClient;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineUpdateInner;
import com.azure.resourcemanager.compute.models.BillingProfile;
import com.azure.resourcemanager.compute.models.CachingTypes;
import com.azure.resourcemanager.compute.models.DeleteOptions;
import com.azure.resourcemanager.compute.models.DiskCreateOptionTypes;
import com.azure.resourcemanager.compute.models.DiskDeleteOptionTypes;
import com.azure.resourcemanager.compute.models.HardwareProfile;
import com.azure.resourcemanager.compute.models.ImageReference;
import com.azure.resourcemanager.compute.models.InstanceViewStatus;
import com.azure.resourcemanager.compute.models.InstanceViewTypes;
import com.azure.resourcemanager.compute.models.LinuxConfiguration;
import com.azure.resourcemanager.compute.models.ManagedDiskParameters;
import com.azure.resourcemanager.compute.models.NetworkApiVersion;
import com.azure.resourcemanager.compute.models.NetworkInterfaceReference;
import com.azure.resourcemanager.compute.models.NetworkProfile;
import com.azure.resourcemanager.compute.models.OSDisk;
import com.azure.resourcemanager.compute.models.OSProfile;
import com.azure.resourcemanager.compute.models.PublicIpAddressSku;
import com.azure.resourcemanager.compute.models.PublicIpAddressSkuName;
import com.azure.resourcemanager.compute.models.PublicIpAddressSkuTier;
import com.azure.resourcemanager.compute.models.PublicIpAllocationMethod;
import com.azure.resourcemanager.compute.models.SshConfiguration;
import com.azure.resourcemanager.compute.models.SshPublicKey;
import com.azure.resourcemanager.compute.models.StorageAccountTypes;
import com.azure.resourcemanager.compute.models.StorageProfile;
import com.azure.resourcemanager.compute.models.VirtualMachineEvictionPolicyTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineNetworkInterfaceConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachineNetworkInterfaceIpConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachinePriorityTypes;
import com.azure.resourcemanager.compute.models.VirtualMachinePublicIpAddressConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachineSizeTypes;
import com.azure.resourcemanager.network.NetworkManager;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.providers.cloud.Idempotency;
import dev.atelier.providers.cloud.VmUserData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Workspaces as Azure VMs, through the inner (REST-level) clients of {@code azure-resourcemanager-compute}. The VM
 * name is derived from the workspace id and created with one PUT, which is idempotent: a repeated PUT of the same
 * body answers with the same VM. The VM creates its own NIC and public IP ({@code networkInterfaceConfigurations},
 * network API 2020-11-01) with delete option {@code Delete}, like its OS disk, so deleting the VM removes all of
 * them. Stop is {@code deallocate} (no compute charges; the disk stays). Long-running operations return
 * {@code Azure-AsyncOperation}/{@code Location} headers, which are polled by the engine instead of the SDK's
 * pollers (which would hold a thread). The resource id is the VM's ARM id.
 */
public class AzureVmWorkspaceProvider implements WorkspaceProvider {

    public static final String NAME = "azure-vm";
    static final String WORKSPACE_TAG = "atelier-workspace-id";
    static final int USER_DATA_LIMIT = 48 * 1024;
    static final String REFETCH = "curl -sf -H 'Metadata: true' "
            + "'http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text' | base64 -d";
    private static final Logger log = LoggerFactory.getLogger(AzureVmWorkspaceProvider.class);
    private static final Pattern VM_ID = Pattern.compile("/subscriptions/(" + AzureVmSpec.GUID + ")/resourceGroups/("
            + AzureVmSpec.RESOURCE_GROUP + ")/providers/Microsoft\\.Compute/virtualMachines/([-\\w.]{1,64})",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern NETWORK_ID = Pattern.compile("/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/"
            + "Microsoft\\.Network/(networkInterfaces|publicIPAddresses)/([^/]+)", Pattern.CASE_INSENSITIVE);
    private static final Set<String> RETRYABLE_CODES = Set.of("TooManyRequests", "RetryableError", "InternalServerError",
            "InternalExecutionError", "ServerTimeout", "ServiceUnavailable", "OperationPreempted", "Conflict");
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The clients of one subscription. */
    public record Clients(ComputeManager compute, NetworkManager network, HttpPipeline pipeline, String resourceManager) {
        VirtualMachinesClient vms() {
            return compute.serviceClient().getVirtualMachines();
        }
    }

    private final Function<String, Clients> clientFactory;
    private final Map<String, Clients> clients = new ConcurrentHashMap<>();
    private final Duration pollInterval;
    private final List<String> locations;
    private final Set<String> inventorySubscriptions = ConcurrentHashMap.newKeySet();

    public AzureVmWorkspaceProvider(Function<String, Clients> clientFactory, Duration pollInterval,
                                    List<String> extraLocations, List<String> inventorySubscriptions) {
        this.clientFactory = clientFactory;
        this.pollInterval = pollInterval;
        Set<String> known = new LinkedHashSet<>(AzureLocations.KNOWN);
        known.addAll(extraLocations);
        this.locations = List.copyOf(known);
        this.inventorySubscriptions.addAll(inventorySubscriptions);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        return AzureVmSpec.read(spec, locations).problems();
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        AzureVmSpec spec = AzureVmSpec.require(request.spec(), locations);
        inventorySubscriptions.add(spec.subscriptionId());
        Ref ref = new Ref(spec.subscriptionId(), spec.resourceGroup(), Idempotency.vmName(request.workspaceId(), 64));
        VirtualMachineInner vm = vm(request, spec, ref.name());
        Response<Flux<ByteBuffer>> response;
        try {
            response = call("PUT virtual machine", () -> drained(clients(ref).vms()
                    .createOrUpdateWithResponseAsync(ref.group(), ref.name(), vm, null, null)));
        } catch (AzureError e) {
            if (!"PropertyChangeNotAllowed".equals(e.code)) {
                throw e;
            }
            // The VM exists with another build's custom data: an earlier build of this workspace created it.
            VirtualMachineInner existing = get(ref).orElseThrow(() -> e);
            if (existing.tags() == null || !request.workspaceId().equals(existing.tags().get(WORKSPACE_TAG))) {
                throw ProviderException.permanent("a VM named " + ref.name() + " exists in resource group "
                        + ref.group() + " but does not carry this workspace's tag; rename or delete it");
            }
            log.info("workspace {} build {}: VM {} exists already, using it", request.workspaceId(),
                    request.buildNumber(), ref.id());
            return carryOnStarting(request, spec, ref, existing);
        }
        log.info("workspace {} build {}: creating VM {} ({}, {})", request.workspaceId(), request.buildNumber(),
                ref.id(), spec.vmSize(), spec.image());
        return follow(request, ref, "create", response);
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        Ref ref = Ref.parse(request.resourceId());
        AzureVmSpec spec = AzureVmSpec.require(request.spec(), locations);
        VirtualMachineInner vm = get(ref).orElseThrow(() -> gone(ref));
        return carryOnStarting(request, spec, ref, vm);
    }

    private ProviderOperation carryOnStarting(ProvisionRequest request, AzureVmSpec spec, Ref ref, VirtualMachineInner vm) {
        String power = powerState(vm);
        switch (power) {
            case "running":
                return awaitRunning(request, ref, vm);
            case "starting", "":
                return ProviderOperation.inProgress(ref.id(), Op.AWAIT_RUNNING, pollInterval);
            case "stopping", "deallocating":
                return ProviderOperation.inProgress(ref.id(), Op.AGAIN_START, pollInterval);
            case "stopped", "deallocated": {
                // The new build's agent reaches the VM through its user data, which the per-boot hook fetches from IMDS.
                String userData = base64(userData(request, spec));
                if (userData.equals(vm.userData())) {
                    return startVm(request, ref);
                }
                Response<Flux<ByteBuffer>> response = call("PATCH virtual machine user data", () -> drained(
                        clients(ref).vms().updateWithResponseAsync(ref.group(), ref.name(),
                                new VirtualMachineUpdateInner().withUserData(userData), null, null)));
                return follow(request, ref, "userData", response);
            }
            default:
                throw ProviderException.permanent("VM " + ref.id() + " is " + power + "; delete this workspace and create it again");
        }
    }

    private ProviderOperation startVm(ProvisionRequest request, Ref ref) {
        Response<Flux<ByteBuffer>> response = call("POST start", () -> drained(clients(ref).vms()
                .startWithResponseAsync(ref.group(), ref.name())));
        log.info("workspace {} build {}: starting VM {}", request.workspaceId(), request.buildNumber(), ref.id());
        return follow(request, ref, "start", response);
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        if (request.resourceId() == null) {
            return ProviderOperation.done(null, Map.of());
        }
        Ref ref = Ref.parse(request.resourceId());
        VirtualMachineInner vm = get(ref).orElseThrow(() -> gone(ref));
        switch (powerState(vm)) {
            case "deallocated":
                return ProviderOperation.done(ref.id(), Map.of());
            case "deallocating":
                return ProviderOperation.inProgress(ref.id(), Op.AWAIT_DEALLOCATED, pollInterval);
            case "starting", "":
                return ProviderOperation.inProgress(ref.id(), Op.AGAIN_STOP, pollInterval);
            default: {
                // Deallocate, not power off: a deallocated VM costs nothing but its disk.
                Response<Flux<ByteBuffer>> response = call("POST deallocate", () -> drained(clients(ref).vms()
                        .deallocateWithResponseAsync(ref.group(), ref.name(), null)));
                log.info("workspace {} build {}: deallocating VM {}", request.workspaceId(), request.buildNumber(), ref.id());
                return follow(request, ref, "deallocate", response);
            }
        }
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        Ref ref;
        if (request.resourceId() != null) {
            ref = Ref.parse(request.resourceId());
        } else {
            // No resource recorded (the create failed or its answer was lost): the name is the workspace's.
            AzureVmSpec spec = AzureVmSpec.read(request.spec(), locations).spec();
            if (spec.subscriptionId() == null || spec.resourceGroup() == null) {
                return ProviderOperation.done(null, Map.of());
            }
            ref = new Ref(spec.subscriptionId(), spec.resourceGroup(), Idempotency.vmName(request.workspaceId(), 64));
        }
        Response<Flux<ByteBuffer>> response;
        try {
            response = call("DELETE virtual machine", () -> drained(clients(ref).vms()
                    .deleteWithResponseAsync(ref.group(), ref.name(), null)));
        } catch (NotFound e) {
            return ProviderOperation.done(null, Map.of());
        }
        if (response.getStatusCode() == 204) {
            return ProviderOperation.done(null, Map.of());
        }
        log.info("workspace {} build {}: deleting VM {} with its disk, NIC and public IP", request.workspaceId(),
                request.buildNumber(), ref.id());
        return follow(request, ref, "delete", response);
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        Ref ref = Ref.parse(request.resourceId());
        switch (operationId) {
            case Op.AWAIT_RUNNING:
                return awaitRunning(request, ref, get(ref).orElseThrow(() -> gone(ref)));
            case Op.AWAIT_DEALLOCATED:
                return "deallocated".equals(powerState(get(ref).orElseThrow(() -> gone(ref))))
                        ? ProviderOperation.done(ref.id(), Map.of())
                        : ProviderOperation.inProgress(ref.id(), operationId, pollInterval);
            case Op.AGAIN_START:
                return start(request);
            case Op.AGAIN_STOP:
                return stop(request);
            default:
                break;
        }
        int space = operationId.indexOf(' ');
        if (space < 0) {
            throw ProviderException.permanent("unknown azure-vm operation '" + operationId + "'");
        }
        String action = operationId.substring(0, space);
        String url = operationId.substring(space + 1);
        Clients clients = clients(ref);
        if (!url.startsWith(clients.resourceManager())) {
            throw ProviderException.permanent("operation URL " + url + " is not on " + clients.resourceManager());
        }
        boolean location = action.startsWith("location:");
        String step = location ? action.substring("location:".length()) : action;
        Status status = location ? locationStatus(clients, url) : asyncOperationStatus(clients, url);
        return switch (status.state) {
            case "InProgress" -> ProviderOperation.inProgress(ref.id(), operationId, pollInterval);
            case "Succeeded" -> next(request, ref, step);
            default -> throw new ProviderException("Azure " + step + " of VM " + ref.name() + " failed: " + status.code
                    + ": " + status.message, RETRYABLE_CODES.contains(status.code));
        };
    }

    /** What follows a long-running operation that succeeded. */
    private ProviderOperation next(ProvisionRequest request, Ref ref, String step) {
        return switch (step) {
            case "create", "start" -> awaitRunning(request, ref, get(ref).orElseThrow(() -> gone(ref)));
            case "userData" -> startVm(request, ref);
            case "deallocate" -> ProviderOperation.done(ref.id(), Map.of());
            case "delete" -> ProviderOperation.done(null, Map.of());
            default -> throw ProviderException.permanent("unknown azure-vm operation step '" + step + "'");
        };
    }

    /** Follows the operation a PUT/PATCH/POST/DELETE answered with, or the next step when there is none. */
    private ProviderOperation follow(ProvisionRequest request, Ref ref, String step, Response<Flux<ByteBuffer>> response) {
        String asyncOperation = response.getHeaders().getValue("Azure-AsyncOperation");
        if (asyncOperation != null) {
            return ProviderOperation.inProgress(ref.id(), step + " " + asyncOperation, pollInterval);
        }
        String location = response.getHeaders().getValue("Location");
        if (location != null && response.getStatusCode() == 202) {
            return ProviderOperation.inProgress(ref.id(), "location:" + step + " " + location, pollInterval);
        }
        return next(request, ref, step);
    }

    private ProviderOperation awaitRunning(ProvisionRequest request, Ref ref, VirtualMachineInner vm) {
        String provisioning = provisioningState(vm);
        if (provisioning.startsWith("failed")) {
            throw ProviderException.permanent("Azure could not provision VM " + ref.name() + ": "
                    + statusMessage(vm, "ProvisioningState/"));
        }
        if ("running".equals(powerState(vm))) {
            AzureVmSpec spec = AzureVmSpec.read(request.spec(), locations).spec();
            return ProviderOperation.done(ref.id(), connection(ref, vm, spec.sshUser()));
        }
        return ProviderOperation.inProgress(ref.id(), Op.AWAIT_RUNNING, pollInterval);
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        AzureVmSpec spec = AzureVmSpec.read(request.spec(), locations).spec();
        Ref ref = request.resourceId() != null ? Ref.parse(request.resourceId())
                : spec.subscriptionId() == null || spec.resourceGroup() == null ? null
                : new Ref(spec.subscriptionId(), spec.resourceGroup(), Idempotency.vmName(request.workspaceId(), 64));
        Optional<VirtualMachineInner> vm = ref == null ? Optional.empty() : get(ref);
        return vm.map(v -> description(ref, v, spec.sshUser()))
                .orElseGet(() -> new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of()));
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        List<ResourceDescription> found = new ArrayList<>();
        for (String subscription : new java.util.TreeSet<>(inventorySubscriptions)) {
            Clients c = clients.computeIfAbsent(subscription, clientFactory);
            call("GET virtual machines", () -> Mono.fromCallable(() -> {
                for (VirtualMachineInner vm : c.vms().list("true", null, null, Context.NONE)) {
                    Map<String, String> tags = vm.tags() == null ? Map.of() : vm.tags();
                    if (tags.containsKey(WORKSPACE_TAG) && tags.entrySet().containsAll(labels.entrySet())) {
                        found.add(description(Ref.parse(vm.id()), vm, AzureVmSpec.DEFAULT_SSH_USER));
                    }
                }
                return Boolean.TRUE;
            }));
        }
        return found;
    }

    // --- the VM

    private VirtualMachineInner vm(ProvisionRequest request, AzureVmSpec spec, String name) {
        String userData = userData(request, spec);
        Map<String, String> tags = new LinkedHashMap<>(spec.tags());
        tags.putAll(request.labels());
        tags.put(WORKSPACE_TAG, request.workspaceId());
        ImageReference image = spec.imageIsUrn() ? urn(spec.image()) : new ImageReference().withId(spec.image());
        VirtualMachineNetworkInterfaceIpConfiguration ip = new VirtualMachineNetworkInterfaceIpConfiguration()
                .withName(name + "-ip").withPrimary(true).withSubnet(new SubResource().withId(spec.subnetId()));
        if (spec.publicIp()) {
            ip.withPublicIpAddressConfiguration(new VirtualMachinePublicIpAddressConfiguration()
                    .withName(name + "-pip")
                    .withSku(new PublicIpAddressSku().withName(PublicIpAddressSkuName.STANDARD)
                            .withTier(PublicIpAddressSkuTier.REGIONAL))
                    .withPublicIpAllocationMethod(PublicIpAllocationMethod.STATIC)
                    .withDeleteOption(DeleteOptions.DELETE));
        }
        VirtualMachineNetworkInterfaceConfiguration nic = new VirtualMachineNetworkInterfaceConfiguration()
                .withName(name + "-nic").withPrimary(true).withDeleteOption(DeleteOptions.DELETE)
                .withIpConfigurations(List.of(ip));
        if (spec.nsgId() != null) {
            nic.withNetworkSecurityGroup(new SubResource().withId(spec.nsgId()));
        }
        VirtualMachineInner vm = new VirtualMachineInner()
                .withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString(spec.vmSize())))
                .withStorageProfile(new StorageProfile().withImageReference(image).withOsDisk(new OSDisk()
                        .withName(name + "-os")
                        .withCreateOption(DiskCreateOptionTypes.FROM_IMAGE)
                        .withCaching(CachingTypes.READ_WRITE)
                        .withDiskSizeGB(spec.diskGb())
                        .withDeleteOption(DiskDeleteOptionTypes.DELETE)
                        .withManagedDisk(new ManagedDiskParameters()
                                .withStorageAccountType(StorageAccountTypes.fromString(spec.diskType())))))
                .withOsProfile(new OSProfile()
                        .withComputerName(name)
                        .withAdminUsername(spec.sshUser())
                        // cloud-init runs the custom data at the first boot; later boots fetch userData from IMDS.
                        .withCustomData(base64(userData))
                        .withLinuxConfiguration(new LinuxConfiguration()
                                .withDisablePasswordAuthentication(true)
                                .withSsh(new SshConfiguration().withPublicKeys(List.of(new SshPublicKey()
                                        .withPath("/home/" + spec.sshUser() + "/.ssh/authorized_keys")
                                        .withKeyData(spec.sshPublicKey()))))))
                .withNetworkProfile(new NetworkProfile()
                        .withNetworkApiVersion(NetworkApiVersion.TWO_ZERO_TWO_ZERO_ONE_ONE_ZERO_ONE)
                        .withNetworkInterfaceConfigurations(List.of(nic)))
                .withUserData(base64(userData));
        vm.withLocation(spec.location()).withTags(tags);
        if (spec.zone() != null) {
            vm.withZones(List.of(spec.zone()));
        }
        if (spec.spot()) {
            // Evicted spot VMs are deallocated (not deleted), so they can start again; pay at most the on-demand price.
            vm.withPriority(VirtualMachinePriorityTypes.SPOT)
                    .withEvictionPolicy(VirtualMachineEvictionPolicyTypes.DEALLOCATE)
                    .withBillingProfile(new BillingProfile().withMaxPrice(-1.0));
        }
        return vm;
    }

    private static ImageReference urn(String urn) {
        String[] parts = urn.split(":");
        return new ImageReference().withPublisher(parts[0]).withOffer(parts[1]).withSku(parts[2]).withVersion(parts[3]);
    }

    private static String userData(ProvisionRequest request, AzureVmSpec spec) {
        // The SSH key is part of the VM's OS profile; the user data only brings the agent and the start-up script.
        String userData = VmUserData.build(request, spec.startupScript(), REFETCH, null, null);
        if (VmUserData.bytes(userData) > USER_DATA_LIMIT) {
            throw ProviderException.permanent("the user data (agent and startupScript) is " + VmUserData.bytes(userData)
                    + " bytes, Azure allows " + USER_DATA_LIMIT + ": shorten startupScript");
        }
        return userData;
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    // --- reading state

    private Optional<VirtualMachineInner> get(Ref ref) {
        try {
            return Optional.of(call("GET virtual machine", () -> clients(ref).vms().getByResourceGroupWithResponseAsync(
                    ref.group(), ref.name(), InstanceViewTypes.INSTANCE_VIEW)).getValue());
        } catch (NotFound e) {
            return Optional.empty();
        }
    }

    private static String powerState(VirtualMachineInner vm) {
        return statusCode(vm, "PowerState/");
    }

    private static String provisioningState(VirtualMachineInner vm) {
        String fromView = statusCode(vm, "ProvisioningState/");
        return !fromView.isEmpty() ? fromView : vm.provisioningState() == null ? "" : vm.provisioningState().toLowerCase();
    }

    private static String statusCode(VirtualMachineInner vm, String prefix) {
        return statuses(vm).stream().map(InstanceViewStatus::code).filter(c -> c != null && c.startsWith(prefix))
                .map(c -> c.substring(prefix.length())).findFirst().orElse("");
    }

    private static String statusMessage(VirtualMachineInner vm, String prefix) {
        return statuses(vm).stream().filter(s -> s.code() != null && s.code().startsWith(prefix))
                .map(s -> s.code() + (s.message() == null ? "" : ": " + s.message())).findFirst().orElse("unknown reason");
    }

    private static List<InstanceViewStatus> statuses(VirtualMachineInner vm) {
        if (vm.instanceView() == null || vm.instanceView().statuses() == null) {
            return List.of();
        }
        return vm.instanceView().statuses();
    }

    private Map<String, String> connection(Ref ref, VirtualMachineInner vm, String sshUser) {
        String privateIp = null;
        String publicIp = null;
        List<NetworkInterfaceReference> nics = vm.networkProfile() == null || vm.networkProfile().networkInterfaces() == null
                ? List.of() : vm.networkProfile().networkInterfaces();
        Optional<NetworkInterfaceReference> primary = nics.stream()
                .filter(n -> n.primary() == null || n.primary()).findFirst();
        if (primary.isPresent()) {
            Matcher nicId = NETWORK_ID.matcher(primary.get().id());
            if (nicId.matches()) {
                NetworkInterfaceInner nic = call("GET network interface", () -> clients(ref).network().serviceClient()
                        .getNetworkInterfaces().getByResourceGroupWithResponseAsync(nicId.group(1), nicId.group(3), null))
                        .getValue();
                Optional<NetworkInterfaceIpConfigurationInner> ip = nic.ipConfigurations() == null ? Optional.empty()
                        : nic.ipConfigurations().stream().filter(c -> c.primary() == null || c.primary()).findFirst();
                privateIp = ip.map(NetworkInterfaceIpConfigurationInner::privateIpAddress).orElse(null);
                Matcher pipId = ip.map(NetworkInterfaceIpConfigurationInner::publicIpAddress)
                        .map(PublicIpAddressInner::id).map(NETWORK_ID::matcher).filter(Matcher::matches).orElse(null);
                if (pipId != null) {
                    publicIp = call("GET public IP address", () -> clients(ref).network().serviceClient()
                            .getPublicIpAddresses().getByResourceGroupWithResponseAsync(pipId.group(1), pipId.group(3), null))
                            .getValue().ipAddress();
                }
            }
        }
        Map<String, String> c = new LinkedHashMap<>();
        String host = publicIp != null ? publicIp : privateIp;
        c.put("type", "ssh");
        if (host != null) {
            c.put("sshHost", host);
            c.put("sshPort", "22");
            c.put("sshUser", sshUser);
        }
        if (publicIp != null) {
            c.put("publicIp", publicIp);
        }
        if (privateIp != null) {
            c.put("privateIp", privateIp);
        }
        c.put("vm", ref.name());
        c.put("resourceGroup", ref.group());
        c.put("location", vm.location());
        return c;
    }

    private ResourceDescription description(Ref ref, VirtualMachineInner vm, String sshUser) {
        String power = powerState(vm);
        ResourceDescription.State state = switch (power) {
            case "running" -> ResourceDescription.State.RUNNING;
            case "starting" -> ResourceDescription.State.PROVISIONING;
            case "stopping", "stopped", "deallocating", "deallocated" -> ResourceDescription.State.STOPPED;
            default -> provisioningState(vm).startsWith("failed") ? ResourceDescription.State.FAILED
                    : provisioningState(vm).equals("creating") ? ResourceDescription.State.PROVISIONING
                    : ResourceDescription.State.UNKNOWN;
        };
        return new ResourceDescription(ref.id(), state, vm.tags() == null ? Map.of() : Map.copyOf(vm.tags()),
                state == ResourceDescription.State.RUNNING && vm.networkProfile() != null ? connection(ref, vm, sshUser) : Map.of());
    }

    // --- long-running operations, read through the SDK's pipeline (its retry policy and, with credentials, its auth)

    private record Status(String state, String code, String message) {
    }

    private static Status asyncOperationStatus(Clients clients, String url) {
        HttpResponseBody response = send(clients, url);
        if (response.status() >= 400) {
            return errorStatus(response);
        }
        JsonNode body = response.json();
        String state = body.path("status").asText("");
        return switch (state) {
            case "Succeeded" -> new Status("Succeeded", null, null);
            case "Failed", "Canceled" -> new Status("Failed", body.at("/error/code").asText(state),
                    body.at("/error/message").asText("the operation " + state.toLowerCase()));
            default -> new Status("InProgress", null, null);
        };
    }

    private static Status locationStatus(Clients clients, String url) {
        HttpResponseBody response = send(clients, url);
        if (response.status() == 202) {
            return new Status("InProgress", null, null);
        }
        return response.status() >= 400 ? errorStatus(response) : new Status("Succeeded", null, null);
    }

    private static Status errorStatus(HttpResponseBody response) {
        JsonNode error = response.json().path("error");
        String code = error.path("code").asText("HTTP" + response.status());
        if (response.status() == 429 || response.status() >= 500) {
            throw ProviderException.retryable("Azure operation status answered " + response.status() + " " + code, null);
        }
        return new Status("Failed", code, error.path("message").asText("HTTP " + response.status()));
    }

    private record HttpResponseBody(int status, String body) {
        JsonNode json() {
            try {
                return body == null || body.isBlank() ? JSON.missingNode() : JSON.readTree(body);
            } catch (IOException e) {
                return JSON.missingNode();
            }
        }
    }

    private static HttpResponseBody send(Clients clients, String url) {
        return call("GET operation status", () -> clients.pipeline().send(new HttpRequest(HttpMethod.GET, url))
                .flatMap(r -> r.getBodyAsString().defaultIfEmpty("").map(b -> new HttpResponseBody(r.getStatusCode(), b))
                        .doFinally(s -> r.close())));
    }

    // --- calls and errors

    Clients clients(Ref ref) {
        return clients.computeIfAbsent(ref.subscription(), clientFactory);
    }

    /** The response with its body read (headers are all a long-running operation needs). */
    private static Mono<Response<Flux<ByteBuffer>>> drained(Mono<Response<Flux<ByteBuffer>>> call) {
        return call.flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()).defaultIfEmpty(new byte[0])
                .map(bytes -> (Response<Flux<ByteBuffer>>) new com.azure.core.http.rest.SimpleResponse<Flux<ByteBuffer>>(
                        r.getRequest(), r.getStatusCode(), r.getHeaders(), Flux.just(ByteBuffer.wrap(bytes)))));
    }

    /**
     * Runs one call. The pipeline's retry policy has already retried 429 and 5xx (honouring Retry-After) when an
     * error arrives here; ARM's error code and message are kept for the user.
     */
    static <T> T call(String action, Supplier<Mono<T>> call) {
        try {
            return call.get().block(CALL_TIMEOUT);
        } catch (ManagementException e) {
            int status = e.getResponse() == null ? -1 : e.getResponse().getStatusCode();
            String code = e.getValue() == null ? "HTTP" + status : e.getValue().getCode();
            String message = e.getValue() == null ? e.getMessage() : e.getValue().getMessage();
            if (status == 404) {
                throw new NotFound(action + ": " + code + ": " + message);
            }
            throw new AzureError(action, code, message, status == 429 || status >= 500 || RETRYABLE_CODES.contains(code), e);
        } catch (HttpResponseException e) {
            int status = e.getResponse() == null ? -1 : e.getResponse().getStatusCode();
            if (status == 404) {
                throw new NotFound(action + ": " + e.getMessage());
            }
            throw new AzureError(action, "HTTP" + status, e.getMessage(), status == 429 || status >= 500, e);
        } catch (ProviderException e) {
            throw e;
        } catch (RuntimeException e) {
            if (hasCause(e, IOException.class) || hasCause(e, TimeoutException.class) || e instanceof IllegalStateException
                    && String.valueOf(e.getMessage()).startsWith("Timeout on blocking read")) {
                throw ProviderException.retryable("could not reach Azure Resource Manager for " + action + ": " + e, e);
            }
            throw e;
        }
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static ProviderException gone(Ref ref) {
        return ProviderException.permanent("VM " + ref.id() + " no longer exists; delete this workspace and create it again");
    }

    /** An ARM error with its code (such as OperationNotAllowed for quota, SkuNotAvailable, TooManyRequests). */
    static final class AzureError extends ProviderException {
        final String code;

        AzureError(String action, String code, String message, boolean retryable, Throwable cause) {
            super("Azure " + action + " failed: " + code + ": " + message, retryable, cause);
            this.code = code;
        }
    }

    static final class NotFound extends ProviderException {
        NotFound(String message) {
            super(message, false);
        }
    }

    /** What a polled operation waits for, besides {@code <step> <Azure-AsyncOperation URL>}. */
    static final class Op {
        static final String AWAIT_RUNNING = "await:running";
        static final String AWAIT_DEALLOCATED = "await:deallocated";
        static final String AGAIN_START = "again:start";
        static final String AGAIN_STOP = "again:stop";

        private Op() {
        }
    }

    record Ref(String subscription, String group, String name) {
        static Ref parse(String resourceId) {
            Matcher m = resourceId == null ? null : VM_ID.matcher(resourceId);
            if (m == null || !m.matches()) {
                throw ProviderException.permanent("'" + resourceId + "' is not an azure-vm resource id "
                        + "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name>)");
            }
            return new Ref(m.group(1).toLowerCase(), m.group(2), m.group(3));
        }

        String id() {
            return "/subscriptions/" + subscription + "/resourceGroups/" + group
                    + "/providers/Microsoft.Compute/virtualMachines/" + name;
        }
    }
}
