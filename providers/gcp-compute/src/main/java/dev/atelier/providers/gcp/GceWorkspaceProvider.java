package dev.atelier.providers.gcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.http.HttpResponseException;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.compute.v1.AggregatedListInstancesRequest;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.GetInstanceRequest;
import com.google.cloud.compute.v1.GetZoneOperationRequest;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesScopedList;
import com.google.cloud.compute.v1.Metadata;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.SetMetadataInstanceRequest;
import com.google.cloud.compute.v1.StartInstanceRequest;
import com.google.cloud.compute.v1.StopInstanceRequest;
import com.google.cloud.compute.v1.ZoneOperationsClient;
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

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Workspaces as Compute Engine instances, through the REST client of {@code google-cloud-compute}. The instance
 * name is derived from the workspace id ({@code atelier-<id>}) and every mutation carries a {@code requestId}
 * derived from the idempotency key and the action, so a repeated call is answered with the original operation and
 * never makes a second VM. Mutations return a zonal Operation, which is polled through {@code zoneOperations.get}
 * (the operation id's kind is the action, its handle the operation's name); no thread waits for it. Start replaces
 * the {@code user-data} metadata (the new build's agent) before it starts the VM; stop keeps the boot disk; delete
 * removes the VM and its auto-delete boot disk. The instance itself is built in {@link GceInstances}. The resource
 * id is {@code projects/<project>/zones/<zone>/instances/<name>}.
 */
public class GceWorkspaceProvider extends VmWorkspaceProvider<GceWorkspaceProvider.Clients,
        GceWorkspaceProvider.Ref, GceSpec, Instance> {

    public static final String NAME = "gcp-compute";
    private static final Logger log = LoggerFactory.getLogger(GceWorkspaceProvider.class);
    private static final Pattern RESOURCE_ID = Pattern.compile(
            "projects/([a-z][-a-z0-9.:]{4,60})/zones/([a-z0-9-]+)/instances/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)");
    private static final Set<String> RETRYABLE_REASONS = Set.of("rateLimitExceeded", "userRateLimitExceeded",
            "resourceNotReady", "backendError", "internalError");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The zonal operations, by the action that began them; each is followed by a step of its own when done. */
    private static final String INSERT = "insert";
    private static final String SET_METADATA = "setMetadata";
    private static final String START = "start";
    private static final String STOP = "stop";
    private static final String DELETE = "delete";

    /** The two REST clients this provider uses, created on first use. */
    public record Clients(InstancesClient instances, ZoneOperationsClient operations) {
    }

    private final String defaultProject;

    public GceWorkspaceProvider(Supplier<Clients> clientFactory, String defaultProject, Duration pollInterval,
                                List<String> extraZones, List<String> inventoryProjects, SshShells hop) {
        super(NAME, "instance", Ref::parse, ClientCache.one(() -> create(clientFactory)), pollInterval, GcpZones.KNOWN, extraZones,
                inventoryProjects, hop);
        this.defaultProject = defaultProject;
        if (defaultProject != null) {
            remember(defaultProject);
        }
    }

    @Override
    protected SpecRead<GceSpec> read(Map<String, Object> spec) {
        return GceSpec.read(spec, locations(), defaultProject);
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        GceSpec spec = requireSpec(request);
        remember(spec.project());
        Ref ref = new Ref(spec.project(), spec.zone(), Idempotency.vmName(request.workspaceId(), 63));
        Instance instance = GceInstances.instance(request, spec, ref.name());
        Operation operation;
        try {
            operation = call("instances.insert", () -> instances(ref).insertCallable().call(
                    InsertInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                            .setRequestId(requestId(request, INSERT)).setInstanceResource(instance).build()));
        } catch (CloudError.AlreadyExists e) {
            // An earlier build of this workspace created it (the name is the workspace's): carry on with it.
            Instance existing = find(ref).orElseThrow(() -> e);
            if (!GceInstances.labelValue(request.workspaceId())
                    .equals(existing.getLabelsMap().get(GceInstances.WORKSPACE_LABEL))) {
                throw ProviderException.permanent("an instance named " + ref.name() + " exists in " + ref.zone()
                        + " but does not carry this workspace's label; rename or delete it");
            }
            return takeOver(request, spec, ref, existing);
        }
        log.info("workspace {} build {}: inserting instance {} ({}, {})", request.workspaceId(), request.buildNumber(),
                ref.id(), spec.machineType(), spec.image());
        return awaitOperation(ref, INSERT, operation, request);
    }

    @Override
    protected ProviderOperation carryOnStarting(ProvisionRequest request, GceSpec spec, Ref ref, Instance instance) {
        switch (instance.getStatus()) {
            case "RUNNING":
                return running(ref, instance, spec);
            case "PROVISIONING", "STAGING", "REPAIRING":
                return inProgress(ref, VmOperations.AWAIT_RUNNING);
            case "STOPPING", "SUSPENDING":
                return inProgress(ref, VmOperations.START_AGAIN);
            case "TERMINATED", "STOPPED": {
                // The new build's agent reaches the VM through its user-data metadata, run again at boot.
                Optional<Metadata> metadata = GceInstances.newBuildMetadata(instance, request, spec);
                if (metadata.isEmpty()) {
                    return startInstance(request, ref);
                }
                Operation operation = call("instances.setMetadata", () -> instances(ref).setMetadataCallable()
                        .call(SetMetadataInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                                .setInstance(ref.name()).setMetadataResource(metadata.get())
                                .setRequestId(requestId(request, SET_METADATA)).build()));
                return awaitOperation(ref, SET_METADATA, operation, request);
            }
            case "SUSPENDED":
                throw ProviderException.permanent("instance " + ref.id() + " is suspended; resume it in the console "
                        + "or delete this workspace");
            default:
                throw ProviderException.permanent("instance " + ref.id() + " is " + instance.getStatus());
        }
    }

    private ProviderOperation startInstance(ProvisionRequest request, Ref ref) {
        Operation operation = call("instances.start", () -> instances(ref).startCallable().call(
                StartInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone()).setInstance(ref.name())
                        .setRequestId(requestId(request, START)).build()));
        log.info("workspace {} build {}: starting instance {}", request.workspaceId(), request.buildNumber(), ref.id());
        return awaitOperation(ref, START, operation, request);
    }

    @Override
    protected ProviderOperation carryOnStopping(ProvisionRequest request, Ref ref, Instance instance) {
        switch (instance.getStatus()) {
            case "TERMINATED", "STOPPED":
                return stopped(ref);
            case "STOPPING":
                return inProgress(ref, VmOperations.AWAIT_STOPPED);
            default:
                Operation operation = call("instances.stop", () -> instances(ref).stopCallable().call(
                        StopInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                                .setInstance(ref.name()).setRequestId(requestId(request, STOP)).build()));
                log.info("workspace {} build {}: stopping instance {}", request.workspaceId(), request.buildNumber(),
                        ref.id());
                return awaitOperation(ref, STOP, operation, request);
        }
    }

    @Override
    protected ProviderOperation delete(ProvisionRequest request, Ref ref) {
        try {
            Operation operation = call("instances.delete", () -> instances(ref).deleteCallable().call(
                    DeleteInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone()).setInstance(ref.name())
                            .setRequestId(requestId(request, DELETE)).build()));
            log.info("workspace {} build {}: deleting instance {}", request.workspaceId(), request.buildNumber(), ref.id());
            return awaitOperation(ref, DELETE, operation, request);
        } catch (CloudError.NotFound e) {
            return deleted();
        }
    }

    /** A zonal operation (its handle is the operation's name), or what the instance's state says. */
    @Override
    protected ProviderOperation poll(ProvisionRequest request, OperationId operation) {
        Ref ref = ref(request.resourceId());
        if (operation.handle() != null) {
            Operation zonal = call("zoneOperations.get", () -> client(ref.project()).operations().getCallable().call(
                    GetZoneOperationRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                            .setOperation(operation.handle()).build()));
            return awaitOperation(ref, operation.kind(), zonal, request);
        }
        if (operation.is(VmOperations.AWAIT_RUNNING)) {
            return awaitRunning(request, ref);
        }
        if (operation.is(VmOperations.AWAIT_STOPPED)) {
            return awaitStopped(ref);
        }
        throw ProviderException.permanent("unknown gcp-compute operation '" + operation + "'");
    }

    /** The ids of before {@link OperationId}: {@code operation:<action>:<name>}, {@code await:<status>}, {@code again:start}. */
    @Override
    protected OperationId legacyOperation(String old) {
        if (old.startsWith("operation:")) {
            String[] parts = old.split(":", 3);
            return parts.length == 3 ? OperationId.of(parts[1], parts[2]) : null;
        }
        return switch (old) {
            case "await:RUNNING" -> OperationId.of(VmOperations.AWAIT_RUNNING);
            case "await:TERMINATED" -> OperationId.of(VmOperations.AWAIT_STOPPED);
            case "again:start" -> OperationId.of(VmOperations.START_AGAIN);
            default -> null;
        };
    }

    /** An operation that is not done yet is polled again; a done one fails with its errors or leads to the next step. */
    private ProviderOperation awaitOperation(Ref ref, String action, Operation operation, ProvisionRequest request) {
        if (operation.getStatus() != Operation.Status.DONE) {
            return inProgress(ref, OperationId.of(action, operation.getName()));
        }
        if (operation.hasError() && operation.getError().getErrorsCount() > 0) {
            if (DELETE.equals(action) && operation.getError().getErrorsList().stream()
                    .allMatch(e -> "RESOURCE_NOT_FOUND".equals(e.getCode()))) {
                return deleted();
            }
            String errors = operation.getError().getErrorsList().stream().map(e -> e.getCode() + ": " + e.getMessage())
                    .collect(Collectors.joining("; "));
            throw ProviderException.permanent("Compute Engine " + action + " of " + ref.id() + " failed: " + errors);
        }
        return switch (action) {
            case INSERT, START -> awaitRunning(request, ref);
            case SET_METADATA -> startInstance(request, ref);
            case STOP -> awaitStopped(ref);
            case DELETE -> deleted();
            default -> throw ProviderException.permanent("unknown gcp-compute operation action '" + action + "'");
        };
    }

    private ProviderOperation awaitRunning(ProvisionRequest request, Ref ref) {
        Instance instance = find(ref).orElseThrow(() -> gone(ref));
        return switch (instance.getStatus()) {
            case "RUNNING" -> running(ref, instance, requireSpec(request));
            case "PROVISIONING", "STAGING", "REPAIRING" -> inProgress(ref, VmOperations.AWAIT_RUNNING);
            default -> throw ProviderException.permanent("instance " + ref.id() + " did not start: it is "
                    + instance.getStatus() + (instance.getStatusMessage().isBlank() ? "" : " (" + instance.getStatusMessage() + ")"));
        };
    }

    private ProviderOperation awaitStopped(Ref ref) {
        Instance instance = find(ref).orElseThrow(() -> gone(ref));
        return switch (instance.getStatus()) {
            case "TERMINATED", "STOPPED" -> stopped(ref);
            default -> inProgress(ref, VmOperations.AWAIT_STOPPED);
        };
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        List<String> clauses = new ArrayList<>(List.of("(labels." + GceInstances.WORKSPACE_LABEL + ":*)"));
        labels.forEach((k, v) -> {
            if (!k.matches("[a-z][a-z0-9_-]{0,62}")) {
                throw ProviderException.permanent("'" + k + "' is not a Compute Engine label key");
            }
            clauses.add("(labels." + k + " = \"" + GceInstances.labelValue(v) + "\")");
        });
        String filter = String.join(" AND ", clauses);
        List<ResourceDescription> found = new ArrayList<>();
        for (String project : inventoryScopes()) {
            call("instances.aggregatedList", () -> {
                for (Map.Entry<String, InstancesScopedList> scope : client(project).instances().aggregatedList(
                        AggregatedListInstancesRequest.newBuilder().setProject(project).setFilter(filter).build()).iterateAll()) {
                    for (Instance i : scope.getValue().getInstancesList()) {
                        String zone = i.getZone().substring(i.getZone().lastIndexOf('/') + 1);
                        found.add(GceInstances.description(new Ref(project, zone, i.getName()), i,
                                GceSpec.DEFAULT_SSH_USER, VmConnection.DEFAULT_SSH_PORT));
                    }
                }
                return null;
            });
        }
        return found;
    }

    // --- helpers

    /** The instance is named after the workspace, in the spec's project and zone. */
    @Override
    protected Optional<Ref> named(GceSpec spec, String workspaceId) {
        return spec.project() == null || spec.zone() == null ? Optional.empty()
                : Optional.of(new Ref(spec.project(), spec.zone(), Idempotency.vmName(workspaceId, 63)));
    }

    @Override
    protected ResourceDescription describe(Ref ref, Instance instance, GceSpec spec) {
        return GceInstances.description(ref, instance, spec.sshUser(), spec.sshPort());
    }

    private ProviderOperation running(Ref ref, Instance instance, GceSpec spec) {
        return ProviderOperation.done(ref.id(), GceInstances.connection(ref, instance, spec.sshUser(), spec.sshPort()));
    }

    @Override
    protected Optional<Instance> find(Ref ref) {
        try {
            return Optional.of(call("instances.get", () -> instances(ref).getCallable().call(
                    GetInstanceRequest.newBuilder().setProject(ref.project()).setZone(ref.zone())
                            .setInstance(ref.name()).build())));
        } catch (CloudError.NotFound e) {
            return Optional.empty();
        }
    }

    private InstancesClient instances(Ref ref) {
        return client(ref.project()).instances();
    }

    /** The same for every retry of the build's action: Compute Engine answers a repeat with the first operation. */
    private static String requestId(ProvisionRequest request, String action) {
        return Idempotency.requestUuid(request.idempotencyKey(), action).toString();
    }

    private static Clients create(Supplier<Clients> clientFactory) {
        try {
            return clientFactory.get();
        } catch (UncheckedIOException e) {
            throw new ProviderException(e.getMessage() + " (credentials: GOOGLE_APPLICATION_CREDENTIALS or "
                    + "Application Default Credentials, see docs/providers/gcp-compute.md)", false, e);
        }
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
                throw new CloudError.NotFound(action + ": " + message);
            }
            if (status == 409 && "alreadyExists".equals(reason) || e.getStatusCode().getCode() == StatusCode.Code.ALREADY_EXISTS) {
                throw new CloudError.AlreadyExists(action + ": " + message);
            }
            boolean retryable = CloudError.retryable(status, reason, RETRYABLE_REASONS)
                    || e.getStatusCode().getCode() == StatusCode.Code.UNAVAILABLE
                    || e.getStatusCode().getCode() == StatusCode.Code.DEADLINE_EXCEEDED;
            throw new CloudError("Compute Engine " + action + " failed (" + (status > 0 ? status + " " : "")
                    + (reason.isBlank() ? e.getStatusCode().getCode() : reason) + "): " + message, reason, retryable, e);
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

    /** An instance: project, zone and name. */
    record Ref(String project, String zone, String name) implements VmRef {
        static Ref parse(String resourceId) {
            Matcher m = VmRef.match(RESOURCE_ID, resourceId, "a gcp-compute resource id "
                    + "(projects/<project>/zones/<zone>/instances/<name>)");
            return new Ref(m.group(1), m.group(2), m.group(3));
        }

        @Override
        public String id() {
            return "projects/" + project + "/zones/" + zone + "/instances/" + name;
        }
    }
}
