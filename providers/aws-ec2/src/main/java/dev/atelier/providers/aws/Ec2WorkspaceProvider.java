package dev.atelier.providers.aws;

import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.providers.cloud.VmConnection;
import dev.atelier.providers.ssh.SshShells;
import dev.atelier.providers.cloud.ClientCache;
import dev.atelier.providers.cloud.CloudError;
import dev.atelier.providers.cloud.SpecRead;
import dev.atelier.providers.cloud.VmOperations;
import dev.atelier.providers.cloud.VmRef;
import dev.atelier.providers.cloud.VmWorkspaceProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Workspaces as EC2 instances. Create launches one instance with {@code RunInstances} (client token = the request's
 * idempotency key, tags {@code atelier-workspace-id}/{@code atelier-build}, cloud-init user data with the agent);
 * start/stop are {@code StartInstances}/{@code StopInstances} (the EBS root volume stays); delete cancels a spot
 * request and terminates the instance, whose root volume goes with it. Every slow step answers "in progress" and is
 * polled with {@code DescribeInstances}: EC2 has no operation handles, the instance's state is the operation's. The
 * resource id is {@code <region>/<instance id>}.
 */
public class Ec2WorkspaceProvider extends VmWorkspaceProvider<Ec2Client, Ec2WorkspaceProvider.Ref, Ec2Spec, Instance> {

    public static final String NAME = "aws-ec2";
    private static final Logger log = LoggerFactory.getLogger(Ec2WorkspaceProvider.class);
    private static final Pattern RESOURCE_ID = Pattern.compile("([a-z0-9-]+)/(i-[0-9a-f]{8,17})");
    /** Error codes that mean "try again later"; 5xx and SDK-detected throttling are retryable as well. */
    private static final Set<String> RETRYABLE_CODES = Set.of("RequestLimitExceeded", "Throttling", "ThrottlingException",
            "ServiceUnavailable", "Unavailable", "InternalError", "IncorrectInstanceState", "IncorrectState");

    public Ec2WorkspaceProvider(Function<String, Ec2Client> clientFactory, Duration pollInterval,
                                List<String> extraRegions, List<String> inventoryRegions, SshShells hop) {
        super(NAME, "EC2 instance", Ref::parse, ClientCache.perScope(clientFactory), pollInterval, AwsRegions.KNOWN, extraRegions,
                inventoryRegions, hop);
    }

    @Override
    protected SpecRead<Ec2Spec> read(Map<String, Object> spec) {
        return Ec2Spec.read(spec, locations());
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        Ec2Spec spec = requireSpec(request);
        remember(spec.region());
        Ec2Client ec2 = client(spec.region());
        // A VM an earlier build of this workspace launched (its answer lost): carry on with it, never launch another.
        Optional<Instance> existing = findByWorkspace(ec2, request.workspaceId()).stream().findFirst();
        if (existing.isPresent()) {
            return takeOver(request, spec, new Ref(spec.region(), existing.get().instanceId()), existing.get());
        }
        Image image = call("DescribeImages", () -> ec2.describeImages(r -> r.imageIds(spec.imageId()))).images()
                .stream().findFirst().orElseThrow(() -> ProviderException.permanent("image " + spec.imageId()
                        + " does not exist in " + spec.region() + " or is not shared with this account"));
        RunInstancesRequest run = Ec2Instances.launch(request, spec, image);
        Instance launched = call("RunInstances", () -> ec2.runInstances(run)).instances().get(0);
        Ref ref = new Ref(spec.region(), launched.instanceId());
        log.info("workspace {} build {}: launched EC2 instance {} ({}, {})", request.workspaceId(),
                request.buildNumber(), ref.id(), spec.instanceType(), spec.imageId());
        return launched.state().name() == InstanceStateName.RUNNING ? running(ref, launched, spec)
                : inProgress(ref, VmOperations.AWAIT_RUNNING);
    }

    @Override
    protected ProviderOperation carryOnStarting(ProvisionRequest request, Ec2Spec spec, Ref ref, Instance instance) {
        switch (instance.state().name()) {
            case RUNNING:
                return running(ref, instance, spec);
            case PENDING:
                return inProgress(ref, VmOperations.AWAIT_RUNNING);
            case STOPPING:
                return inProgress(ref, VmOperations.START_AGAIN);
            case STOPPED: {
                // The new build's agent (its token is bound to the build) reaches the VM through its user data,
                // which the per-boot hook runs again. User data can only be changed while the instance is stopped.
                String userData = Ec2Instances.userData(request, spec);
                Ec2Client ec2 = client(ref.region());
                call("ModifyInstanceAttribute", () -> ec2.modifyInstanceAttribute(r -> r.instanceId(ref.instanceId())
                        .userData(v -> v.value(SdkBytes.fromUtf8String(userData)))));
                call("StartInstances", () -> ec2.startInstances(r -> r.instanceIds(ref.instanceId())));
                log.info("workspace {} build {}: starting EC2 instance {}", request.workspaceId(), request.buildNumber(),
                        ref.id());
                return inProgress(ref, VmOperations.AWAIT_RUNNING);
            }
            default:
                throw unusable(ref, instance);
        }
    }

    @Override
    protected ProviderOperation carryOnStopping(ProvisionRequest request, Ref ref, Instance instance) {
        switch (instance.state().name()) {
            case STOPPED:
                return stopped(ref);
            case STOPPING:
                return inProgress(ref, VmOperations.AWAIT_STOPPED);
            case PENDING:
                // An instance cannot be stopped while it is still pending: ask again shortly.
                return inProgress(ref, VmOperations.STOP_AGAIN);
            case RUNNING:
                call("StopInstances", () -> client(ref.region()).stopInstances(r -> r.instanceIds(ref.instanceId())));
                log.info("workspace {} build {}: stopping EC2 instance {}", request.workspaceId(), request.buildNumber(),
                        ref.id());
                return inProgress(ref, VmOperations.AWAIT_STOPPED);
            default:
                throw unusable(ref, instance);
        }
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        if (request.resourceId() != null) {
            return super.delete(request);
        }
        // No resource recorded (the create failed or its answer was lost): find what carries the workspace's tag.
        String region = readSpec(request).region();
        if (region == null) {
            return deleted();
        }
        Map<Ref, Instance> targets = new LinkedHashMap<>();
        findByWorkspace(client(region), request.workspaceId())
                .forEach(i -> targets.put(new Ref(region, i.instanceId()), i));
        return targets.isEmpty() ? deleted() : terminate(request, targets);
    }

    @Override
    protected ProviderOperation delete(ProvisionRequest request, Ref ref) {
        Optional<Instance> instance = find(ref);
        if (instance.isEmpty() || instance.get().state().name() == InstanceStateName.TERMINATED) {
            return deleted();
        }
        if (instance.get().state().name() == InstanceStateName.SHUTTING_DOWN) {
            return inProgress(ref, VmOperations.AWAIT_DELETED);
        }
        return terminate(request, Map.of(ref, instance.get()));
    }

    /** Terminates the instances (their root volumes go with them), cancelling their spot requests first. */
    private ProviderOperation terminate(ProvisionRequest request, Map<Ref, Instance> targets) {
        targets.forEach((ref, instance) -> {
            Ec2Client ec2 = client(ref.region());
            if (instance.spotInstanceRequestId() != null) {
                // A persistent spot request would launch a replacement for the terminated instance.
                call("CancelSpotInstanceRequests", () -> ec2.cancelSpotInstanceRequests(r -> r
                        .spotInstanceRequestIds(instance.spotInstanceRequestId())));
            }
            try {
                call("TerminateInstances", () -> ec2.terminateInstances(r -> r.instanceIds(ref.instanceId())));
                log.info("workspace {} build {}: terminating EC2 instance {}", request.workspaceId(),
                        request.buildNumber(), ref.id());
            } catch (CloudError.NotFound e) {
                log.info("workspace {}: EC2 instance {} is gone already", request.workspaceId(), ref.id());
            }
        });
        return inProgress(targets.keySet().iterator().next(), VmOperations.AWAIT_DELETED);
    }

    /** What the instance's state says about the operation: EC2 has no handle of its own for it. */
    @Override
    protected ProviderOperation poll(ProvisionRequest request, OperationId operation) {
        Ref ref = ref(request.resourceId());
        Optional<Instance> found = find(ref);
        if (operation.is(VmOperations.AWAIT_DELETED)) {
            return found.isEmpty() || found.get().state().name() == InstanceStateName.TERMINATED
                    ? deleted() : inProgress(ref, operation);
        }
        Instance instance = found.orElseThrow(() -> gone(ref));
        InstanceStateName state = instance.state().name();
        if (operation.is(VmOperations.AWAIT_RUNNING)) {
            if (state == InstanceStateName.RUNNING) {
                return running(ref, instance, requireSpec(request));
            }
            if (state == InstanceStateName.PENDING) {
                return inProgress(ref, operation);
            }
            throw ProviderException.permanent("EC2 instance " + ref.id() + " did not start: it is " + state
                    + Ec2Instances.reason(instance));
        }
        if (operation.is(VmOperations.AWAIT_STOPPED)) {
            if (state == InstanceStateName.STOPPED) {
                return stopped(ref);
            }
            if (Ec2Instances.live(instance)) {
                return inProgress(ref, operation);
            }
            throw unusable(ref, instance);
        }
        throw ProviderException.permanent("unknown aws-ec2 operation '" + operation + "'");
    }

    /** The ids of before {@link OperationId}: what the poll waited for, as a bare word. */
    @Override
    protected OperationId legacyOperation(String old) {
        return switch (old) {
            case "running" -> OperationId.of(VmOperations.AWAIT_RUNNING);
            case "stopped" -> OperationId.of(VmOperations.AWAIT_STOPPED);
            case "terminated" -> OperationId.of(VmOperations.AWAIT_DELETED);
            case "start" -> OperationId.of(VmOperations.START_AGAIN);
            case "stop" -> OperationId.of(VmOperations.STOP_AGAIN);
            default -> null;
        };
    }

    /** By the recorded id or, with none recorded, by the workspace's tag (EC2 names instances itself). */
    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        if (request.resourceId() != null) {
            return super.describe(request);
        }
        Ec2Spec spec = readSpec(request);
        String region = spec.region();
        Optional<Instance> instance = region == null ? Optional.empty()
                : findByWorkspace(client(region), request.workspaceId()).stream().findFirst();
        return instance.map(i -> describe(new Ref(region, i.instanceId()), i, spec))
                .orElseGet(VmWorkspaceProvider::absent);
    }

    @Override
    protected ResourceDescription describe(Ref ref, Instance instance, Ec2Spec spec) {
        return Ec2Instances.description(ref.region(), instance, spec.sshUser(), spec.sshPort());
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        List<ResourceDescription> found = new ArrayList<>();
        for (String region : inventoryScopes()) {
            List<Filter> filters = new ArrayList<>(List.of(
                    Filter.builder().name("tag-key").values(Ec2Instances.WORKSPACE_TAG).build(),
                    Filter.builder().name("instance-state-name").values(Ec2Instances.LIVE_STATES).build()));
            labels.forEach((k, v) -> filters.add(Filter.builder().name("tag:" + k).values(v).build()));
            Ec2Client ec2 = client(region);
            call("DescribeInstances", () -> {
                ec2.describeInstancesPaginator(r -> r.filters(filters)).reservations().stream()
                        .flatMap(res -> res.instances().stream())
                        .forEach(i -> found.add(Ec2Instances.description(region, i, Ec2Spec.DEFAULT_SSH_USER,
                                VmConnection.DEFAULT_SSH_PORT)));
                return null;
            });
        }
        return found;
    }

    // --- helpers

    private ProviderOperation running(Ref ref, Instance instance, Ec2Spec spec) {
        return ProviderOperation.done(ref.id(), Ec2Instances.connection(ref.region(), instance, spec.sshUser(), spec.sshPort()));
    }

    private List<Instance> findByWorkspace(Ec2Client ec2, String workspaceId) {
        DescribeInstancesRequest query = DescribeInstancesRequest.builder().filters(
                Filter.builder().name("tag:" + Ec2Instances.WORKSPACE_TAG).values(workspaceId).build(),
                Filter.builder().name("instance-state-name").values(Ec2Instances.LIVE_STATES).build()).build();
        return call("DescribeInstances", () -> ec2.describeInstances(query)).reservations().stream()
                .flatMap(r -> r.instances().stream()).toList();
    }

    @Override
    protected Optional<Instance> find(Ref ref) {
        try {
            return call("DescribeInstances", () -> client(ref.region()).describeInstances(r -> r.instanceIds(ref.instanceId())))
                    .reservations().stream().map(Reservation::instances).flatMap(List::stream).findFirst();
        } catch (CloudError.NotFound e) {
            return Optional.empty();
        }
    }

    private ProviderException unusable(Ref ref, Instance instance) {
        return unusable(ref, instance.state().nameAsString() + Ec2Instances.reason(instance));
    }

    /**
     * Runs one SDK call. The SDK has already retried throttling and 5xx (standard retry strategy) when an exception
     * arrives here; it becomes a retryable {@link ProviderException} (the engine retries the step, boundedly) or a
     * permanent one with EC2's own code and message.
     */
    static <T> T call(String action, Supplier<T> call) {
        try {
            return call.get();
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            String message = e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage();
            if (code != null && code.endsWith(".NotFound") && code.startsWith("InvalidInstanceID")) {
                throw new CloudError.NotFound(code + ": " + message);
            }
            boolean retryable = e.isThrottlingException() || CloudError.retryable(e.statusCode(), code, RETRYABLE_CODES);
            throw CloudError.failed("EC2", action, code, message, retryable, e);
        } catch (SdkClientException e) {
            if (String.valueOf(e.getMessage()).contains("Unable to load credentials")) {
                throw new ProviderException("no AWS credentials for EC2 " + action + ": " + e.getMessage()
                        + " (see docs/providers/aws-ec2.md, Configuration)", false, e);
            }
            throw ProviderException.retryable("could not reach EC2 for " + action + ": " + e.getMessage(), e);
        } catch (SdkException e) {
            throw new ProviderException("EC2 " + action + " failed: " + e.getMessage(), e.retryable(), e);
        }
    }

    /** An instance: its region and id. */
    record Ref(String region, String instanceId) implements VmRef {
        static Ref parse(String resourceId) {
            Matcher m = VmRef.match(RESOURCE_ID, resourceId, "an aws-ec2 resource id (<region>/<instance id>)");
            return new Ref(m.group(1), m.group(2));
        }

        @Override
        public String id() {
            return region + "/" + instanceId;
        }
    }
}
