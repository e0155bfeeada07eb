package dev.atelier.providers.gcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.http.HttpResponseException;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AggregatedListInstancesRequest;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.GetInstanceRequest;
import com.google.cloud.compute.v1.GetZoneOperationRequest;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesScopedList;
import com.google.cloud.compute.v1.Items;
import com.google.cloud.compute.v1.Metadata;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.SetMetadataInstanceRequest;
import com.google.cloud.compute.v1.StartInstanceRequest;
import com.google.cloud.compute.v1.StopInstanceRequest;
import com.google.cloud.compute.v1.Tags;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.providers.cloud.Idempotency;
import dev.atelier.providers.cloud.VmUserData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Workspaces as Compute Engine instances, through the REST client of {@code google-cloud-compute}. The instance
 * name is derived from the workspace id ({@code atelier-<id>}) and every mutation carries a {@code requestId}
 * derived from the idempotency key and the action, so a repeated call is answered with the original operation and
 * never makes a second VM. Mutations return a zonal Operation, which is polled through {@code zoneOperations.get};
 * no thread waits for it. Start replaces the {@code user-data} metadata (the new build's agent) before it starts
 * the VM; stop keeps the boot disk; delete removes the VM and its auto-delete boot disk. The resource id is
 * {@code projects/<project>/zones/<zone>/instances/<name>}.
 */
public class GceWorkspaceProvider implements WorkspaceProvider {

    public static final String NAME = "gcp-compute";
    static final String WORKSPACE_LABEL = "atelier-workspace-id";
    static final String USER_DATA = "user-data";
    static final String SSH_KEYS = "ssh-keys";
    static final String STARTUP_SCRIPT = "startup-script";
    /**
     * Images without cloud-init (Google's Debian images, for one) run the user data through the guest environment's
     * start-up script instead, at every boot; where cloud-init exists it does nothing.
     */
    static final String STARTUP_SHIM = "#!/bin/sh\n"
            + "# Atelier: images without cloud-init run the workspace's user data here, at every boot.\n"
            + "command -v cloud-init >/dev/null 2>&1 && exit 0\n"
            + "umask 077\n"
            + "curl -sf -H 'Metadata-Flavor: Google' "
            + "'http://metadata.google.internal/computeMetadata/v1/instance/attributes/user-data' > /run/atelier-user-data "
            + "&& exec sh /run/atelier-user-data\n";
    static final String REFETCH = "curl -sf -H 'Metadata-Flavor: Google' "
            + "'http://metadata.google.internal/computeMetadata/v1/instance/attributes/user-data'";
    private static final Logger log = LoggerFactory.getLogger(GceWorkspaceProvider.class);
    private static final Pattern RESOURCE_ID = Pattern.compile(
            "projects/([a-z][-a-z0-9.:]{4,60})/zones/([a-z0-9-]+)/instances/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)");
    private static final Set<String> RETRYABLE_REASONS = Set.of("rateLimitExceeded", "userRateLimitExceeded",
            "resourceNotReady", "backendError", "internalError");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The two REST clients this provider uses, created on first use. */
    public record Clients(InstancesClient instances, ZoneOperationsClient operations) {
    }

    private final Supplier<Clients> clientFactory;
    private volatile Clients clients;
    private final String defaultProject;
    private final Duration pollInterval;
    private final List<String> zones;
    private final Set<String> inventoryProjects = ConcurrentHashMap.newKeySet();

    public GceWorkspaceProvider(Supplier<Clients> clientFactory, String defaultProject, Duration pollInterval,
                                List<String> extraZones, List<String> inventoryProjects) {
        this.clientFactory = clientFactory;
        this.defaultProject = defaultProject;
        this.pollInterval = pollInterval;
        Set<String> known = new LinkedHashSet<>(GcpZones.KNOWN);
        known.addAll(extraZones);
        this.zones = List.copyOf(known);
        this.inventoryProjects.addAll(inventoryProjects);
        if (defaultProject != null) {
            this.inventoryProjects.add(defaultProject);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        return GceSpec.read(spec, zones, defaultProject).problems();
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        GceSpec spec = spec(request);
        inventoryProjects.add(spec.project());
        Ref ref = new Ref(spec.project(), spec.zone(), Idempotency.vmName(request.workspaceId(), 63));
        Instance instance = instance(request, spec, ref.name());
        Operation operation;
        try {
            operation = call("instances.insert", () -> clients().instances().insertCallable().call(
                    InsertInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                            .setRequestId(Idempotency.requestUuid(request.idempotencyKey(), "insert").toString())
                            .setInstanceResource(instance).build()));
        } catch (AlreadyExists e) {
            // An earlier build of this workspace created it (the name is the workspace's): carry on with it.
            Instance existing = get(ref).orElseThrow(() -> e);
            if (!labelValue(request.workspaceId()).equals(existing.getLabelsMap().get(WORKSPACE_LABEL))) {
                throw ProviderException.permanent("an instance named " + ref.name() + " exists in " + ref.zone()
                        + " but does not carry this workspace's label; rename or delete it");
            }
            log.info("workspace {} build {}: instance {} exists already, using it", request.workspaceId(),
                    request.buildNumber(), ref.id());
            return carryOnStarting(request, spec, ref, existing);
        }
        log.info("workspace {} build {}: inserting instance {} ({}, {})", request.workspaceId(), request.buildNumber(),
                ref.id(), spec.machineType(), spec.image());
        return awaitOperation(ref, "insert", operation, request);
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        Ref ref = Ref.parse(request.resourceId());
        GceSpec spec = spec(request);
        Instance instance = get(ref).orElseThrow(() -> gone(ref));
        return carryOnStarting(request, spec, ref, instance);
    }

    private ProviderOperation carryOnStarting(ProvisionRequest request, GceSpec spec, Ref ref, Instance instance) {
        switch (instance.getStatus()) {
            case "RUNNING":
                return running(ref, instance, spec);
            case "PROVISIONING", "STAGING", "REPAIRING":
                return ProviderOperation.inProgress(ref.id(), Op.AWAIT_RUNNING, pollInterval);
            case "STOPPING", "SUSPENDING":
                return ProviderOperation.inProgress(ref.id(), Op.AGAIN_START, pollInterval);
            case "TERMINATED", "STOPPED": {
                // The new build's agent reaches the VM through its user-data metadata, run again at boot.
                String userData = userData(request, spec);
                Optional<String> current = instance.getMetadata().getItemsList().stream()
                        .filter(i -> USER_DATA.equals(i.getKey())).map(Items::getValue).findFirst();
                if (current.isEmpty() || !current.get().equals(userData)) {
                    Metadata.Builder metadata = Metadata.newBuilder().setFingerprint(instance.getMetadata().getFingerprint());
                    instance.getMetadata().getItemsList().stream()
                            .filter(i -> !Set.of(USER_DATA, SSH_KEYS, STARTUP_SCRIPT).contains(i.getKey()))
                            .forEach(metadata::addItems);
                    metadataItems(spec, userData).forEach(metadata::addItems);
                    Operation operation = call("instances.setMetadata", () -> clients().instances().setMetadataCallable()
                            .call(SetMetadataInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                                    .setInstance(ref.name()).setMetadataResource(metadata)
                                    .setRequestId(Idempotency.requestUuid(request.idempotencyKey(), "setMetadata").toString())
                                    .build()));
                    return awaitOperation(ref, "setMetadata", operation, request);
                }
                return startInstance(request, ref);
            }
            case "SUSPENDED":
                throw ProviderException.permanent("instance " + ref.id() + " is suspended; resume it in the console "
                        + "or delete this workspace");
            default:
                throw ProviderException.permanent("instance " + ref.id() + " is " + instance.getStatus());
        }
    }

    private ProviderOperation startInstance(ProvisionRequest request, Ref ref) {
        Operation operation = call("instances.start", () -> clients().instances().startCallable().call(
                StartInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone()).setInstance(ref.name())
                        .setRequestId(Idempotency.requestUuid(request.idempotencyKey(), "start").toString()).build()));
        log.info("workspace {} build {}: starting instance {}", request.workspaceId(), request.buildNumber(), ref.id());
        return awaitOperation(ref, "start", operation, request);
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        if (request.resourceId() == null) {
            return ProviderOperation.done(null, Map.of());
        }
        Ref ref = Ref.parse(request.resourceId());
        Instance instance = get(ref).orElseThrow(() -> gone(ref));
        switch (instance.getStatus()) {
            case "TERMINATED", "STOPPED":
                return ProviderOperation.done(ref.id(), Map.of());
            case "STOPPING":
                return ProviderOperation.inProgress(ref.id(), Op.AWAIT_TERMINATED, pollInterval);
            default:
                Operation operation = call("instances.stop", () -> clients().instances().stopCallable().call(
                        StopInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                                .setInstance(ref.name())
                                .setRequestId(Idempotency.requestUuid(request.idempotencyKey(), "stop").toString())
                                .build()));
                log.info("workspace {} build {}: stopping instance {}", request.workspaceId(), request.buildNumber(),
                        ref.id());
                return awaitOperation(ref, "stop", operation, request);
        }
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        Ref ref;
        if (request.resourceId() != null) {
            ref = Ref.parse(request.resourceId());
        } else {
            // No resource recorded (the create failed or its answer was lost): the name is the workspace's.
            GceSpec.Read read = GceSpec.read(request.spec(), zones, defaultProject);
            if (read.spec().project() == null || read.spec().zone() == null) {
                return ProviderOperation.done(null, Map.of());
            }
            ref = new Ref(read.spec().project(), read.spec().zone(), Idempotency.vmName(request.workspaceId(), 63));
        }
        try {
            Operation operation = call("instances.delete", () -> clients().instances().deleteCallable().call(
                    DeleteInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone()).setInstance(ref.name())
                            .setRequestId(Idempotency.requestUuid(request.idempotencyKey(), "delete").toString()).build()));
            log.info("workspace {} build {}: deleting instance {}", request.workspaceId(), request.buildNumber(), ref.id());
            return awaitOperation(ref, "delete", operation, request);
        } catch (NotFound e) {
            return ProviderOperation.done(null, Map.of());
        }
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        Ref ref = Ref.parse(request.resourceId());
        if (operationId.startsWith(Op.OPERATION)) {
            String[] parts = operationId.split(":", 3);
            String action = parts[1];
            Operation operation = call("zoneOperations.get", () -> clients().operations().getCallable().call(
                    GetZoneOperationRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                            .setOperation(parts[2]).build()));
            return awaitOperation(ref, action, operation, request);
        }
        if (Op.AGAIN_START.equals(operationId)) {
            return start(request);
        }
        if (Op.AWAIT_RUNNING.equals(operationId)) {
            return awaitRunning(request, ref);
        }
        if (Op.AWAIT_TERMINATED.equals(operationId)) {
            return awaitStopped(ref);
        }
        throw ProviderException.permanent("unknown gcp-compute operation '" + operationId + "'");
    }

    /** An operation that is not done yet is polled again; a done one fails with its errors or leads to the next step. */
    private ProviderOperation awaitOperation(Ref ref, String action, Operation operation, ProvisionRequest request) {
        if (operation.getStatus() != Operation.Status.DONE) {
            return ProviderOperation.inProgress(ref.id(), Op.OPERATION + action + ":" + operation.getName(), pollInterval);
        }
        if (operation.hasError() && operation.getError().getErrorsCount() > 0) {
            if ("delete".equals(action) && operation.getError().getErrorsList().stream()
                    .allMatch(e -> "RESOURCE_NOT_FOUND".equals(e.getCode()))) {
                return ProviderOperation.done(null, Map.of());
            }
            String errors = operation.getError().getErrorsList().stream().map(e -> e.getCode() + ": " + e.getMessage())
                    .collect(Collectors.joining("; "));
            throw ProviderException.permanent("Compute Engine " + action + " of " + ref.id() + " failed: " + errors);
        }
        return switch (action) {
            case "insert", "start" -> awaitRunning(request, ref);
            case "setMetadata" -> startInstance(request, ref);
            case "stop" -> awaitStopped(ref);
            case "delete" -> ProviderOperation.done(null, Map.of());
            default -> throw ProviderException.permanent("unknown gcp-compute operation action '" + action + "'");
        };
    }

    private ProviderOperation awaitRunning(ProvisionRequest request, Ref ref) {
        Instance instance = get(ref).orElseThrow(() -> gone(ref));
        return switch (instance.getStatus()) {
            case "RUNNING" -> running(ref, instance, spec(request));
            case "PROVISIONING", "STAGING", "REPAIRING" -> ProviderOperation.inProgress(ref.id(), Op.AWAIT_RUNNING, pollInterval);
            default -> throw ProviderException.permanent("instance " + ref.id() + " did not start: it is "
                    + instance.getStatus() + (instance.getStatusMessage().isBlank() ? "" : " (" + instance.getStatusMessage() + ")"));
        };
    }

    private ProviderOperation awaitStopped(Ref ref) {
        Instance instance = get(ref).orElseThrow(() -> gone(ref));
        return switch (instance.getStatus()) {
            case "TERMINATED", "STOPPED" -> ProviderOperation.done(ref.id(), Map.of());
            default -> ProviderOperation.inProgress(ref.id(), Op.AWAIT_TERMINATED, pollInterval);
        };
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        GceSpec.Read read = GceSpec.read(request.spec(), zones, defaultProject);
        Ref ref = request.resourceId() != null ? Ref.parse(request.resourceId())
                : read.spec().project() == null || read.spec().zone() == null ? null
                : new Ref(read.spec().project(), read.spec().zone(), Idempotency.vmName(request.workspaceId(), 63));
        Optional<Instance> instance = ref == null ? Optional.empty() : get(ref);
        return instance.map(i -> description(ref, i, read.spec().sshUser()))
                .orElseGet(() -> new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of()));
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        List<String> clauses = new ArrayList<>(List.of("(labels." + WORKSPACE_LABEL + ":*)"));
        labels.forEach((k, v) -> {
            if (!k.matches("[a-z][a-z0-9_-]{0,62}")) {
                throw ProviderException.permanent("'" + k + "' is not a Compute Engine label key");
            }
            clauses.add("(labels." + k + " = \"" + labelValue(v) + "\")");
        });
        String filter = String.join(" AND ", clauses);
        List<ResourceDescription> found = new ArrayList<>();
        for (String project : new java.util.TreeSet<>(inventoryProjects)) {
            call("instances.aggregatedList", () -> {
                for (Map.Entry<String, InstancesScopedList> scope : clients().instances().aggregatedList(
                        AggregatedListInstancesRequest.newBuilder().setProject(project).setFilter(filter).build()).iterateAll()) {
                    for (Instance i : scope.getValue().getInstancesList()) {
                        String zone = i.getZone().substring(i.getZone().lastIndexOf('/') + 1);
                        found.add(description(new Ref(project, zone, i.getName()), i, GceSpec.DEFAULT_SSH_USER));
                    }
                }
                return null;
            });
        }
        return found;
    }

    // --- the instance

    private Instance instance(ProvisionRequest request, GceSpec spec, String name) {
        String zone = spec.zone();
        Map<String, String> labels = new LinkedHashMap<>(spec.labels());
        request.labels().forEach((k, v) -> labels.put(k, labelValue(v)));
        labels.put(WORKSPACE_LABEL, labelValue(request.workspaceId()));
        AttachedDiskInitializeParams.Builder disk = AttachedDiskInitializeParams.newBuilder()
                .setSourceImage(spec.image())
                .setDiskType("zones/" + zone + "/diskTypes/" + spec.diskType())
                .putAllLabels(labels);
        if (spec.diskGb() != null) {
            disk.setDiskSizeGb(spec.diskGb());
        }
        NetworkInterface.Builder nic = NetworkInterface.newBuilder()
                .setNetwork(spec.network().contains("/") ? spec.network() : "global/networks/" + spec.network());
        if (spec.subnetwork() != null) {
            nic.setSubnetwork(spec.subnetwork().contains("/") ? spec.subnetwork()
                    : "regions/" + spec.region() + "/subnetworks/" + spec.subnetwork());
        }
        if (spec.publicIp()) {
            nic.addAccessConfigs(AccessConfig.newBuilder().setName("External NAT").setType("ONE_TO_ONE_NAT"));
        }
        Scheduling.Builder scheduling = Scheduling.newBuilder()
                // GPUs cannot live-migrate; spot VMs are stopped (not deleted) when preempted, so they can start again.
                .setOnHostMaintenance(spec.hasGpus() || spec.spot() ? "TERMINATE" : "MIGRATE")
                .setAutomaticRestart(!spec.spot())
                .setProvisioningModel(spec.spot() ? "SPOT" : "STANDARD");
        if (spec.spot()) {
            scheduling.setInstanceTerminationAction("STOP");
        }
        Instance.Builder instance = Instance.newBuilder()
                .setName(name)
                .setMachineType("zones/" + zone + "/machineTypes/" + spec.machineType())
                .putAllLabels(labels)
                .setMetadata(Metadata.newBuilder().addAllItems(metadataItems(spec, userData(request, spec))))
                .addDisks(AttachedDisk.newBuilder().setBoot(true).setAutoDelete(true).setType("PERSISTENT")
                        .setInitializeParams(disk))
                .addNetworkInterfaces(nic)
                .setScheduling(scheduling);
        if (!spec.networkTags().isEmpty()) {
            instance.setTags(Tags.newBuilder().addAllItems(spec.networkTags()));
        }
        spec.accelerators().forEach(a -> instance.addGuestAccelerators(AcceleratorConfig.newBuilder()
                .setAcceleratorType("zones/" + zone + "/acceleratorTypes/" + a.type()).setAcceleratorCount(a.count())));
        return instance.build();
    }

    private static List<Items> metadataItems(GceSpec spec, String userData) {
        List<Items> items = new ArrayList<>();
        items.add(Items.newBuilder().setKey(USER_DATA).setValue(userData).build());
        items.add(Items.newBuilder().setKey(STARTUP_SCRIPT).setValue(STARTUP_SHIM).build());
        if (spec.sshPublicKey() != null) {
            // The guest environment creates the user (with sudo) and authorises the key.
            items.add(Items.newBuilder().setKey(SSH_KEYS).setValue(spec.sshUser() + ":" + spec.sshPublicKey()).build());
        }
        return items;
    }

    private static String userData(ProvisionRequest request, GceSpec spec) {
        return VmUserData.build(request, spec.startupScript(), REFETCH, null, null);
    }

    private ProviderOperation running(Ref ref, Instance instance, GceSpec spec) {
        return ProviderOperation.done(ref.id(), connection(ref, instance, spec.sshUser()));
    }

    private static Map<String, String> connection(Ref ref, Instance instance, String sshUser) {
        Map<String, String> c = new LinkedHashMap<>();
        String privateIp = instance.getNetworkInterfacesCount() == 0 ? null : instance.getNetworkInterfaces(0).getNetworkIP();
        String publicIp = instance.getNetworkInterfacesCount() == 0 || instance.getNetworkInterfaces(0).getAccessConfigsCount() == 0
                ? null : instance.getNetworkInterfaces(0).getAccessConfigs(0).getNatIP();
        publicIp = publicIp == null || publicIp.isBlank() ? null : publicIp;
        privateIp = privateIp == null || privateIp.isBlank() ? null : privateIp;
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
        c.put("instance", ref.name());
        c.put("zone", ref.zone());
        c.put("project", ref.project());
        return c;
    }

    private static ResourceDescription description(Ref ref, Instance instance, String sshUser) {
        ResourceDescription.State state = switch (instance.getStatus()) {
            case "PROVISIONING", "STAGING", "REPAIRING" -> ResourceDescription.State.PROVISIONING;
            case "RUNNING" -> ResourceDescription.State.RUNNING;
            case "STOPPING", "STOPPED", "TERMINATED", "SUSPENDING", "SUSPENDED" -> ResourceDescription.State.STOPPED;
            default -> ResourceDescription.State.UNKNOWN;
        };
        return new ResourceDescription(ref.id(), state, Map.copyOf(instance.getLabelsMap()),
                state == ResourceDescription.State.RUNNING ? connection(ref, instance, sshUser) : Map.of());
    }

    private Optional<Instance> get(Ref ref) {
        try {
            return Optional.of(call("instances.get", () -> clients().instances().getCallable().call(
                    GetInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                            .setInstance(ref.name()).build())));
        } catch (NotFound e) {
            return Optional.empty();
        }
    }

    private GceSpec spec(ProvisionRequest request) {
        return GceSpec.require(request.spec(), zones, defaultProject);
    }

    /** GCP label values: lower-case letters, digits, '_' and '-', at most 63. */
    static String labelValue(String value) {
        String lower = value.toLowerCase();
        return lower.matches("[a-z0-9_-]{0,63}") ? lower : Idempotency.token(value, 63).toLowerCase();
    }

    private static ProviderException gone(Ref ref) {
        return ProviderException.permanent("instance " + ref.id() + " no longer exists; delete this workspace and "
                + "create it again");
    }

    Clients clients() {
        Clients c = clients;
        if (c == null) {
            synchronized (this) {
                if (clients == null) {
                    try {
                        clients = clientFactory.get();
                    } catch (java.io.UncheckedIOException e) {
                        throw new ProviderException(e.getMessage() + " (credentials: GOOGLE_APPLICATION_CREDENTIALS or "
                                + "Application Default Credentials, see docs/providers/gcp-compute.md)", false, e);
                    }
                }
                c = clients;
            }
        }
        return c;
    }

    /**
     * Runs one SDK call. Compute Engine errors carry an HTTP status, a reason and a message: throttling
     * (429, rateLimitExceeded) and 5xx are retryable, the rest permanent with Google's own message.
     */
    static <T> T call(String action, Supplier<T> call) {
        try {
            return call.get();
        } catch (ApiException e) {
            int status = e.getStatusCode().getTransportCode() instanceof Integer code ? code : -1;
            JsonNode error = errorBody(e);
            String reason = error.path("errors").path(0).path("reason").asText("");
            String message = error.path("message").asText("");
            if (message.isBlank()) {
                message = e.getMessage();
            }
            if (status == 404 || e.getStatusCode().getCode() == StatusCode.Code.NOT_FOUND) {
                throw new NotFound(action + ": " + message);
            }
            if (status == 409 && "alreadyExists".equals(reason) || e.getStatusCode().getCode() == StatusCode.Code.ALREADY_EXISTS) {
                throw new AlreadyExists(action + ": " + message);
            }
            boolean retryable = status == 429 || status >= 500 || RETRYABLE_REASONS.contains(reason)
                    || e.getStatusCode().getCode() == StatusCode.Code.UNAVAILABLE
                    || e.getStatusCode().getCode() == StatusCode.Code.DEADLINE_EXCEEDED;
            throw new ProviderException("Compute Engine " + action + " failed (" + (status > 0 ? status + " " : "")
                    + (reason.isBlank() ? e.getStatusCode().getCode() : reason) + "): " + message, retryable, e);
        }
    }

    /** The JSON error body of an HTTP error ({@code {"error": {"code", "message", "errors": [{"reason"}]}}}). */
    private static JsonNode errorBody(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof HttpResponseException http && http.getContent() != null) {
                try {
                    return JSON.readTree(http.getContent()).path("error");
                } catch (Exception ignored) {
                    return JSON.missingNode();
                }
            }
        }
        return JSON.missingNode();
    }

    static final class NotFound extends ProviderException {
        NotFound(String message) {
            super(message, false);
        }
    }

    static final class AlreadyExists extends ProviderException {
        AlreadyExists(String message) {
            super(message, false);
        }
    }

    /** What a polled operation waits for. */
    static final class Op {
        /** {@code operation:<action>:<zonal operation name>} */
        static final String OPERATION = "operation:";
        static final String AWAIT_RUNNING = "await:RUNNING";
        static final String AWAIT_TERMINATED = "await:TERMINATED";
        static final String AGAIN_START = "again:start";

        private Op() {
        }
    }

    record Ref(String project, String zone, String name) {
        static Ref parse(String resourceId) {
            Matcher m = resourceId == null ? null : RESOURCE_ID.matcher(resourceId);
            if (m == null || !m.matches()) {
                throw ProviderException.permanent("'" + resourceId + "' is not a gcp-compute resource id "
                        + "(projects/<project>/zones/<zone>/instances/<name>)");
            }
            return new Ref(m.group(1), m.group(2), m.group(3));
        }

        String id() {
            return "projects/" + project + "/zones/" + zone + "/instances/" + name;
        }
    }
}
