package dev.atelier.providers.aws;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.providers.cloud.Idempotency;
import dev.atelier.providers.cloud.VmUserData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.BlockDeviceMapping;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceInterruptionBehavior;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.MarketType;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.SpotInstanceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

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
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Workspaces as EC2 instances. Create launches one instance with {@code RunInstances} (client token = the request's
 * idempotency key, tags {@code atelier-workspace-id}/{@code atelier-build}, cloud-init user data with the agent);
 * start/stop are {@code StartInstances}/{@code StopInstances} (the EBS root volume stays); delete cancels a spot
 * request and terminates the instance, whose root volume goes with it. Every slow step answers "in progress" and is
 * polled with {@code DescribeInstances}. The resource id is {@code <region>/<instance id>}.
 */
public class Ec2WorkspaceProvider implements WorkspaceProvider {

    public static final String NAME = "aws-ec2";
    static final String WORKSPACE_TAG = "atelier-workspace-id";
    static final int USER_DATA_LIMIT = 16 * 1024;
    /** Later boots read the current user data through IMDSv2 (the instance requires tokens). */
    static final String REFETCH = "t=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "
            + "http://169.254.169.254/latest/api/token) && curl -sf -H \"X-aws-ec2-metadata-token: $t\" "
            + "http://169.254.169.254/latest/user-data";
    private static final Logger log = LoggerFactory.getLogger(Ec2WorkspaceProvider.class);
    private static final Pattern RESOURCE_ID = Pattern.compile("([a-z0-9-]+)/(i-[0-9a-f]{8,17})");
    private static final List<String> LIVE_STATES = List.of("pending", "running", "stopping", "stopped");
    /** Error codes that mean "try again later"; 5xx and SDK-detected throttling are retryable as well. */
    private static final Set<String> RETRYABLE_CODES = Set.of("RequestLimitExceeded", "Throttling", "ThrottlingException",
            "ServiceUnavailable", "Unavailable", "InternalError", "IncorrectInstanceState", "IncorrectState");

    private final Function<String, Ec2Client> clientFactory;
    private final Map<String, Ec2Client> clients = new ConcurrentHashMap<>();
    private final Duration pollInterval;
    private final List<String> regions;
    private final Set<String> inventoryRegions = ConcurrentHashMap.newKeySet();

    public Ec2WorkspaceProvider(Function<String, Ec2Client> clientFactory, Duration pollInterval,
                                List<String> extraRegions, List<String> inventoryRegions) {
        this.clientFactory = clientFactory;
        this.pollInterval = pollInterval;
        Set<String> known = new LinkedHashSet<>(AwsRegions.KNOWN);
        known.addAll(extraRegions);
        this.regions = List.copyOf(known);
        this.inventoryRegions.addAll(inventoryRegions);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        return Ec2Spec.read(spec, regions).problems();
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        Ec2Spec spec = Ec2Spec.require(request.spec(), regions);
        inventoryRegions.add(spec.region());
        Ec2Client ec2 = client(spec.region());
        // A VM an earlier build of this workspace launched (its answer lost): carry on with it, never launch another.
        Optional<Instance> existing = findByWorkspace(ec2, request.workspaceId()).stream().findFirst();
        if (existing.isPresent()) {
            log.info("workspace {} build {}: EC2 instance {} exists already, using it", request.workspaceId(),
                    request.buildNumber(), existing.get().instanceId());
            return carryOnStarting(request, spec, new Ref(spec.region(), existing.get().instanceId()), existing.get());
        }
        Image image = call("DescribeImages", () -> ec2.describeImages(r -> r.imageIds(spec.imageId()))).images()
                .stream().findFirst().orElseThrow(() -> ProviderException.permanent("image " + spec.imageId()
                        + " does not exist in " + spec.region() + " or is not shared with this account"));
        String userData = userData(request, spec);
        RunInstancesRequest.Builder run = RunInstancesRequest.builder()
                .clientToken(Idempotency.token(request.idempotencyKey(), 64))
                .imageId(spec.imageId())
                .instanceType(spec.instanceType())
                .minCount(1)
                .maxCount(1)
                .userData(Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8)))
                .tagSpecifications(tagSpecifications(request, spec))
                .metadataOptions(m -> m.httpTokens(HttpTokensState.REQUIRED)
                        .httpEndpoint(InstanceMetadataEndpointState.ENABLED).httpPutResponseHopLimit(2))
                .blockDeviceMappings(BlockDeviceMapping.builder().deviceName(image.rootDeviceName())
                        .ebs(e -> e.deleteOnTermination(true).encrypted(true).volumeType(spec.diskType())
                                .volumeSize(spec.diskGb()))
                        .build());
        if (spec.subnetId() != null) {
            run.subnetId(spec.subnetId());
        }
        if (!spec.securityGroupIds().isEmpty()) {
            run.securityGroupIds(spec.securityGroupIds());
        }
        if (spec.keyName() != null) {
            run.keyName(spec.keyName());
        }
        if (spec.spot()) {
            // Persistent, stopped on interruption: a spot workspace can be stopped and started like any other.
            run.instanceMarketOptions(m -> m.marketType(MarketType.SPOT).spotOptions(s -> s
                    .spotInstanceType(SpotInstanceType.PERSISTENT)
                    .instanceInterruptionBehavior(InstanceInterruptionBehavior.STOP)));
        }
        Instance launched = call("RunInstances", () -> ec2.runInstances(run.build())).instances().get(0);
        Ref ref = new Ref(spec.region(), launched.instanceId());
        log.info("workspace {} build {}: launched EC2 instance {} ({}, {})", request.workspaceId(),
                request.buildNumber(), ref.id(), spec.instanceType(), spec.imageId());
        return launched.state().name() == InstanceStateName.RUNNING ? running(ref, launched, spec)
                : ProviderOperation.inProgress(ref.id(), Op.RUNNING, pollInterval);
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        Ref ref = Ref.parse(request.resourceId());
        Ec2Spec spec = Ec2Spec.require(request.spec(), regions);
        Instance instance = describe(ref).orElseThrow(() -> gone(ref));
        return carryOnStarting(request, spec, ref, instance);
    }

    private ProviderOperation carryOnStarting(ProvisionRequest request, Ec2Spec spec, Ref ref, Instance instance) {
        switch (instance.state().name()) {
            case RUNNING:
                return running(ref, instance, spec);
            case PENDING:
                return ProviderOperation.inProgress(ref.id(), Op.RUNNING, pollInterval);
            case STOPPING:
                return ProviderOperation.inProgress(ref.id(), Op.START, pollInterval);
            case STOPPED: {
                // The new build's agent (its token is bound to the build) reaches the VM through its user data,
                // which the per-boot hook runs again. User data can only be changed while the instance is stopped.
                String userData = userData(request, spec);
                Ec2Client ec2 = client(ref.region());
                call("ModifyInstanceAttribute", () -> ec2.modifyInstanceAttribute(r -> r.instanceId(ref.instanceId())
                        .userData(v -> v.value(SdkBytes.fromUtf8String(userData)))));
                call("StartInstances", () -> ec2.startInstances(r -> r.instanceIds(ref.instanceId())));
                log.info("workspace {} build {}: starting EC2 instance {}", request.workspaceId(), request.buildNumber(),
                        ref.id());
                return ProviderOperation.inProgress(ref.id(), Op.RUNNING, pollInterval);
            }
            default:
                throw gone(ref, instance);
        }
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        if (request.resourceId() == null) {
            return ProviderOperation.done(null, Map.of());
        }
        Ref ref = Ref.parse(request.resourceId());
        Instance instance = describe(ref).orElseThrow(() -> gone(ref));
        switch (instance.state().name()) {
            case STOPPED:
                return ProviderOperation.done(ref.id(), Map.of());
            case STOPPING:
                return ProviderOperation.inProgress(ref.id(), Op.STOPPED, pollInterval);
            case PENDING:
                // An instance cannot be stopped while it is still pending: ask again shortly.
                return ProviderOperation.inProgress(ref.id(), Op.STOP, pollInterval);
            case RUNNING:
                call("StopInstances", () -> client(ref.region()).stopInstances(r -> r.instanceIds(ref.instanceId())));
                log.info("workspace {} build {}: stopping EC2 instance {}", request.workspaceId(), request.buildNumber(),
                        ref.id());
                return ProviderOperation.inProgress(ref.id(), Op.STOPPED, pollInterval);
            default:
                throw gone(ref, instance);
        }
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        Map<Ref, Instance> targets = new LinkedHashMap<>();
        if (request.resourceId() != null) {
            Ref ref = Ref.parse(request.resourceId());
            Optional<Instance> instance = describe(ref);
            if (instance.isEmpty() || instance.get().state().name() == InstanceStateName.TERMINATED) {
                return ProviderOperation.done(null, Map.of());
            }
            if (instance.get().state().name() == InstanceStateName.SHUTTING_DOWN) {
                return ProviderOperation.inProgress(ref.id(), Op.TERMINATED, pollInterval);
            }
            targets.put(ref, instance.get());
        } else {
            // No resource recorded (the create failed or its answer was lost): find what carries the workspace's tag.
            String region = Ec2Spec.read(request.spec(), regions).spec().region();
            if (region == null) {
                return ProviderOperation.done(null, Map.of());
            }
            findByWorkspace(client(region), request.workspaceId())
                    .forEach(i -> targets.put(new Ref(region, i.instanceId()), i));
            if (targets.isEmpty()) {
                return ProviderOperation.done(null, Map.of());
            }
        }
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
            } catch (NotFound e) {
                log.info("workspace {}: EC2 instance {} is gone already", request.workspaceId(), ref.id());
            }
        });
        return ProviderOperation.inProgress(targets.keySet().iterator().next().id(), Op.TERMINATED, pollInterval);
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        if (Op.START.equals(operationId)) {
            return start(request);
        }
        if (Op.STOP.equals(operationId)) {
            return stop(request);
        }
        Ref ref = Ref.parse(request.resourceId());
        Optional<Instance> found = describe(ref);
        if (Op.TERMINATED.equals(operationId)) {
            return found.isEmpty() || found.get().state().name() == InstanceStateName.TERMINATED
                    ? ProviderOperation.done(null, Map.of())
                    : ProviderOperation.inProgress(ref.id(), operationId, pollInterval);
        }
        Instance instance = found.orElseThrow(() -> gone(ref));
        InstanceStateName state = instance.state().name();
        if (Op.RUNNING.equals(operationId)) {
            if (state == InstanceStateName.RUNNING) {
                return running(ref, instance, Ec2Spec.require(request.spec(), regions));
            }
            if (state == InstanceStateName.PENDING) {
                return ProviderOperation.inProgress(ref.id(), operationId, pollInterval);
            }
            throw ProviderException.permanent("EC2 instance " + ref.id() + " did not start: it is " + state
                    + reason(instance));
        }
        if (Op.STOPPED.equals(operationId)) {
            if (state == InstanceStateName.STOPPED) {
                return ProviderOperation.done(ref.id(), Map.of());
            }
            if (live(instance)) {
                return ProviderOperation.inProgress(ref.id(), operationId, pollInterval);
            }
            throw gone(ref, instance);
        }
        throw ProviderException.permanent("unknown aws-ec2 operation '" + operationId + "'");
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        Optional<Instance> instance;
        String region;
        if (request.resourceId() != null) {
            Ref ref = Ref.parse(request.resourceId());
            region = ref.region();
            instance = describe(ref);
        } else {
            region = Ec2Spec.read(request.spec(), regions).spec().region();
            instance = region == null ? Optional.empty() : findByWorkspace(client(region), request.workspaceId())
                    .stream().findFirst();
        }
        Ec2Spec spec = Ec2Spec.read(request.spec(), regions).spec();
        return instance.map(i -> description(region, i, spec.sshUser()))
                .orElseGet(() -> new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of()));
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        List<ResourceDescription> found = new ArrayList<>();
        for (String region : new java.util.TreeSet<>(inventoryRegions)) {
            List<Filter> filters = new ArrayList<>(List.of(Filter.builder().name("tag-key").values(WORKSPACE_TAG).build(),
                    Filter.builder().name("instance-state-name").values(LIVE_STATES).build()));
            labels.forEach((k, v) -> filters.add(Filter.builder().name("tag:" + k).values(v).build()));
            Ec2Client ec2 = client(region);
            call("DescribeInstances", () -> {
                ec2.describeInstancesPaginator(r -> r.filters(filters)).reservations().stream()
                        .flatMap(res -> res.instances().stream())
                        .forEach(i -> found.add(description(region, i, Ec2Spec.DEFAULT_SSH_USER)));
                return null;
            });
        }
        return found;
    }

    // --- helpers

    private ProviderOperation running(Ref ref, Instance instance, Ec2Spec spec) {
        return ProviderOperation.done(ref.id(), connection(ref.region(), instance, spec.sshUser()));
    }

    private static Map<String, String> connection(String region, Instance instance, String sshUser) {
        Map<String, String> c = new LinkedHashMap<>();
        String host = instance.publicIpAddress() != null ? instance.publicIpAddress() : instance.privateIpAddress();
        c.put("type", "ssh");
        if (host != null) {
            c.put("sshHost", host);
            c.put("sshPort", "22");
            c.put("sshUser", sshUser);
        }
        if (instance.publicIpAddress() != null) {
            c.put("publicIp", instance.publicIpAddress());
        }
        if (instance.privateIpAddress() != null) {
            c.put("privateIp", instance.privateIpAddress());
        }
        c.put("instanceId", instance.instanceId());
        c.put("region", region);
        return c;
    }

    private static ResourceDescription description(String region, Instance instance, String sshUser) {
        ResourceDescription.State state = switch (instance.state().name()) {
            case PENDING -> ResourceDescription.State.PROVISIONING;
            case RUNNING -> ResourceDescription.State.RUNNING;
            case STOPPING, STOPPED -> ResourceDescription.State.STOPPED;
            case SHUTTING_DOWN, TERMINATED -> ResourceDescription.State.ABSENT;
            default -> ResourceDescription.State.UNKNOWN;
        };
        Map<String, String> tags = new LinkedHashMap<>();
        instance.tags().forEach(t -> tags.put(t.key(), t.value()));
        return new ResourceDescription(region + "/" + instance.instanceId(), state, tags,
                state == ResourceDescription.State.RUNNING ? connection(region, instance, sshUser) : Map.of());
    }

    private String userData(ProvisionRequest request, Ec2Spec spec) {
        String userData = VmUserData.build(request, spec.startupScript(), REFETCH,
                spec.sshPublicKey() == null ? null : spec.sshUser(), spec.sshPublicKey());
        if (VmUserData.bytes(userData) > USER_DATA_LIMIT) {
            throw ProviderException.permanent("the user data (agent and startupScript) is " + VmUserData.bytes(userData)
                    + " bytes, EC2 allows " + USER_DATA_LIMIT + ": shorten startupScript");
        }
        return userData;
    }

    private static List<TagSpecification> tagSpecifications(ProvisionRequest request, Ec2Spec spec) {
        Map<String, String> tags = new LinkedHashMap<>(spec.tags());
        tags.put("Name", Idempotency.vmName(request.workspaceId(), 255));
        tags.putAll(request.labels());
        tags.put(WORKSPACE_TAG, request.workspaceId());
        List<Tag> list = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        List<ResourceType> types = new ArrayList<>(List.of(ResourceType.INSTANCE, ResourceType.VOLUME,
                ResourceType.NETWORK_INTERFACE));
        if (spec.spot()) {
            types.add(ResourceType.SPOT_INSTANCES_REQUEST);
        }
        return types.stream().map(t -> TagSpecification.builder().resourceType(t).tags(list).build()).toList();
    }

    private List<Instance> findByWorkspace(Ec2Client ec2, String workspaceId) {
        DescribeInstancesRequest query = DescribeInstancesRequest.builder().filters(
                Filter.builder().name("tag:" + WORKSPACE_TAG).values(workspaceId).build(),
                Filter.builder().name("instance-state-name").values(LIVE_STATES).build()).build();
        return call("DescribeInstances", () -> ec2.describeInstances(query)).reservations().stream()
                .flatMap(r -> r.instances().stream()).toList();
    }

    private Optional<Instance> describe(Ref ref) {
        try {
            return call("DescribeInstances", () -> client(ref.region()).describeInstances(r -> r.instanceIds(ref.instanceId())))
                    .reservations().stream().map(Reservation::instances).flatMap(List::stream).findFirst();
        } catch (NotFound e) {
            return Optional.empty();
        }
    }

    private static boolean live(Instance instance) {
        return LIVE_STATES.contains(instance.state().nameAsString());
    }

    private static String reason(Instance instance) {
        if (instance.stateReason() != null && instance.stateReason().message() != null) {
            return " (" + instance.stateReason().message() + ")";
        }
        return instance.stateTransitionReason() == null || instance.stateTransitionReason().isBlank() ? ""
                : " (" + instance.stateTransitionReason() + ")";
    }

    private static ProviderException gone(Ref ref) {
        return ProviderException.permanent("EC2 instance " + ref.id() + " no longer exists; delete this workspace and "
                + "create it again");
    }

    private static ProviderException gone(Ref ref, Instance instance) {
        return ProviderException.permanent("EC2 instance " + ref.id() + " is " + instance.state().nameAsString()
                + reason(instance) + "; delete this workspace and create it again");
    }

    Ec2Client client(String region) {
        return clients.computeIfAbsent(region, clientFactory);
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
                throw new NotFound(code + ": " + message);
            }
            boolean retryable = e.isThrottlingException() || e.statusCode() >= 500
                    || (code != null && RETRYABLE_CODES.contains(code));
            throw new ProviderException("EC2 " + action + " failed: " + code + ": " + message, retryable, e);
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

    /** An instance id EC2 does not know (any more). */
    static final class NotFound extends ProviderException {
        NotFound(String message) {
            super(message, false);
        }
    }

    /** What a polled operation waits for. */
    static final class Op {
        static final String RUNNING = "running";
        static final String STOPPED = "stopped";
        static final String TERMINATED = "terminated";
        /** Waiting for a stopping instance before starting it. */
        static final String START = "start";
        /** Waiting for a pending instance before stopping it. */
        static final String STOP = "stop";

        private Op() {
        }
    }

    record Ref(String region, String instanceId) {
        static Ref parse(String resourceId) {
            var m = resourceId == null ? null : RESOURCE_ID.matcher(resourceId);
            if (m == null || !m.matches()) {
                throw ProviderException.permanent("'" + resourceId + "' is not an aws-ec2 resource id (<region>/<instance id>)");
            }
            return new Ref(m.group(1), m.group(2));
        }

        String id() {
            return region + "/" + instanceId;
        }
    }
}
