package dev.atelier.providers.aws;

import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.providers.cloud.Idempotency;
import dev.atelier.providers.cloud.VmConnection;
import dev.atelier.providers.cloud.VmUserData;
import software.amazon.awssdk.services.ec2.model.BlockDeviceMapping;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceInterruptionBehavior;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.MarketType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.SpotInstanceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The EC2 instance of a workspace: what {@code RunInstances} asks for (client token, tags on every resource it
 * makes, IMDSv2 only, an encrypted root volume that goes with the instance, spot options), its user data, and how
 * an instance reads back as a workspace (state, connection).
 */
final class Ec2Instances {

    static final String WORKSPACE_TAG = "atelier-workspace-id";
    static final int USER_DATA_LIMIT = 16 * 1024;
    /** Later boots read the current user data through IMDSv2 (the instance requires tokens). */
    static final String REFETCH = "t=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "
            + "http://169.254.169.254/latest/api/token) && curl -sf -H \"X-aws-ec2-metadata-token: $t\" "
            + "http://169.254.169.254/latest/user-data";
    /** States of an instance that still exists (shutting-down and terminated ones are on their way out). */
    static final List<String> LIVE_STATES = List.of("pending", "running", "stopping", "stopped");

    private Ec2Instances() {
    }

    /** The one instance of a workspace; the client token makes a repeated launch answer with the same instance. */
    static RunInstancesRequest launch(ProvisionRequest request, Ec2Spec spec, Image image) {
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
        return run.build();
    }

    static Map<String, String> connection(String region, Instance instance, String sshUser, int sshPort) {
        Map<String, String> c = VmConnection.ssh(instance.publicIpAddress(), instance.privateIpAddress(), sshUser, sshPort);
        c.put("instanceId", instance.instanceId());
        c.put("region", region);
        return c;
    }

    static ResourceDescription description(String region, Instance instance, String sshUser, int sshPort) {
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
                state == ResourceDescription.State.RUNNING ? connection(region, instance, sshUser, sshPort) : Map.of());
    }

    /**
     * The user data of a build: its agent (the token is bound to the build), the start-up script, and the per-boot
     * hook that fetches it again through IMDSv2 at every later boot.
     */
    static String userData(ProvisionRequest request, Ec2Spec spec) {
        return VmUserData.atMost(VmUserData.build(request, spec.startupScript(), REFETCH, spec.sshUser(),
                spec.sshPublicKey() == null ? null : spec.sshUser(), spec.sshPublicKey()), USER_DATA_LIMIT, "EC2");
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

    static boolean live(Instance instance) {
        return LIVE_STATES.contains(instance.state().nameAsString());
    }

    static String reason(Instance instance) {
        if (instance.stateReason() != null && instance.stateReason().message() != null) {
            return " (" + instance.stateReason().message() + ")";
        }
        return instance.stateTransitionReason() == null || instance.stateTransitionReason().isBlank() ? ""
                : " (" + instance.stateTransitionReason() + ")";
    }
}
