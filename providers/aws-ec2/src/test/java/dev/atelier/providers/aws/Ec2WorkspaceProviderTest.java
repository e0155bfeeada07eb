package dev.atelier.providers.aws;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.providers.cloud.CloudFake;
import dev.atelier.providers.cloud.CloudFakeServer;
import dev.atelier.providers.cloud.VmOperations;
import dev.atelier.providers.cloud.VmRequests;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The real AWS SDK (EC2 Query API: signed form POSTs, XML answers) against a local fake of EC2 that answers with
 * recorded responses; every assertion on a request is on what the SDK really sent.
 */
class Ec2WorkspaceProviderTest {

    static final String WS = VmRequests.WORKSPACE_ID;
    static final String RESOURCE = "eu-west-1/" + Ec2Fake.INSTANCE_ID;
    static final String KEY = VmRequests.SSH_KEY;
    @RegisterExtension
    static final CloudFakeServer cloud = new CloudFakeServer();
    static final WireMockServer server = cloud.server();
    static final Ec2Fake ec2 = new Ec2Fake(server);
    Ec2WorkspaceProvider provider;

    @BeforeAll
    static void credentials() {
        // The SDK's default credentials chain starts with these system properties.
        System.setProperty("aws.accessKeyId", "AKIAIOSFODNN7EXAMPLE");
        System.setProperty("aws.secretAccessKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    @BeforeEach
    void reset() {
        ec2.forWorkspace(WS).spot(false).defaults();
        provider = newProvider();
    }

    static Ec2WorkspaceProvider newProvider() {
        AwsProviderProperties properties = new AwsProviderProperties(true, URI.create(ec2.endpoint()), Duration.ofMillis(100),
                Duration.ofSeconds(30), List.of(), List.of());
        return new Ec2WorkspaceProvider(AwsProviderConfiguration.clients(properties), properties.pollInterval(),
                properties.extraRegions(), List.of("eu-west-1"), null);
    }

    static Map<String, Object> gpuSpec() {
        return VmRequests.gpuSpec("ubuntu", Map.of("region", "eu-west-1", "instanceType", "g5.xlarge",
                "imageId", Ec2Fake.IMAGE_ID, "diskGb", 200, "diskType", "gp3", "subnetId", "subnet-0d4c3b2a19f8e7d6c",
                "securityGroupIds", List.of("sg-0b1c2d3e4f5a6b7c8"), "tags", Map.of("cost-center", "ml-research")));
    }

    @Test
    void aWorkspaceGoesThroughCreateStopStartAndDeleteWithTheRequestsEc2Expects() {
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());

        ProviderOperation launched = provider.create(create);
        assertThat(launched.done()).isFalse();
        assertThat(launched.resourceId()).isEqualTo(RESOURCE);

        LoggedRequest run = single("RunInstances");
        assertThat(Ec2Fake.form(run, "Version")).isEqualTo("2016-11-15");
        assertThat(Ec2Fake.form(run, "InstanceType")).isEqualTo("g5.xlarge");
        assertThat(Ec2Fake.form(run, "ImageId")).isEqualTo(Ec2Fake.IMAGE_ID);
        assertThat(Ec2Fake.form(run, "ClientToken")).isEqualTo(WS + "-1");
        assertThat(Ec2Fake.form(run, "MinCount")).isEqualTo("1");
        assertThat(Ec2Fake.form(run, "MaxCount")).isEqualTo("1");
        assertThat(Ec2Fake.form(run, "SubnetId")).isEqualTo("subnet-0d4c3b2a19f8e7d6c");
        assertThat(Ec2Fake.form(run, "SecurityGroupId.1")).isEqualTo("sg-0b1c2d3e4f5a6b7c8");
        assertThat(Ec2Fake.form(run, "BlockDeviceMapping.1.DeviceName")).as("the AMI's root device").isEqualTo("/dev/sda1");
        assertThat(Ec2Fake.form(run, "BlockDeviceMapping.1.Ebs.VolumeSize")).isEqualTo("200");
        assertThat(Ec2Fake.form(run, "BlockDeviceMapping.1.Ebs.VolumeType")).isEqualTo("gp3");
        assertThat(Ec2Fake.form(run, "BlockDeviceMapping.1.Ebs.DeleteOnTermination")).isEqualTo("true");
        assertThat(Ec2Fake.form(run, "MetadataOptions.HttpTokens")).isEqualTo("required");
        assertThat(Ec2Fake.form(run, "InstanceMarketOptions.MarketType")).isNull();
        assertThat(tags(run, "instance")).containsEntry("atelier-workspace-id", WS).containsEntry("atelier-build", "1")
                .containsEntry("cost-center", "ml-research").containsEntry("Name", "atelier-" + WS);
        assertThat(tags(run, "volume")).containsEntry("atelier-workspace-id", WS);
        String userData = new String(Base64.getDecoder().decode(Ec2Fake.form(run, "UserData")), StandardCharsets.UTF_8);
        assertThat(userData).startsWith("#!/bin/sh").contains(VmRequests.AGENT_SCRIPT)
                .contains("ATELIER_AGENT_TOKEN='" + VmRequests.token(WS, 1) + "'")
                .contains("nvidia-smi > /var/log/gpu.txt").contains(KEY).contains("latest/user-data");
        assertThat(run.getHeader("Authorization")).as("signed for the template's region")
                .contains("/eu-west-1/ec2/aws4_request").contains("AKIAIOSFODNN7EXAMPLE");

        // pending -> running, polled
        ProviderOperation pending = provider.poll(requestOf(create, RESOURCE), launched.operationId());
        assertThat(pending.done()).isFalse();
        ProviderOperation running = provider.poll(requestOf(create, RESOURCE), pending.operationId());
        assertThat(running.done()).isTrue();
        assertThat(running.connection()).containsEntry("sshHost", Ec2Fake.PUBLIC_IP).containsEntry("sshUser", "ubuntu")
                .containsEntry("sshPort", "22").containsEntry("privateIp", Ec2Fake.PRIVATE_IP)
                .containsEntry("instanceId", Ec2Fake.INSTANCE_ID);
        assertThat(ec2.requests("DescribeInstances")).filteredOn(r -> Ec2Fake.form(r, "InstanceId.1") != null)
                .hasSize(2).allSatisfy(r -> assertThat(Ec2Fake.form(r, "InstanceId.1")).isEqualTo(Ec2Fake.INSTANCE_ID));

        // stop: running -> stopping -> stopped; the disk stays (nothing is deleted)
        ec2.instanceStates("running", "stopping", "stopped");
        ProvisionRequest stop = VmRequests.other(WS, 2, RESOURCE, gpuSpec());
        ProviderOperation stopping = provider.stop(stop);
        assertThat(stopping.done()).isFalse();
        assertThat(Ec2Fake.form(single("StopInstances"), "InstanceId.1")).isEqualTo(Ec2Fake.INSTANCE_ID);
        assertThat(provider.poll(stop, stopping.operationId()).done()).isFalse();
        assertThat(provider.poll(stop, stopping.operationId()).done()).isTrue();

        // start: the stopped VM gets the new build's user data (agent token of build 3), then starts
        ec2.instanceStates("stopped", "pending", "running");
        ProvisionRequest start = VmRequests.starting(WS, 3, RESOURCE, gpuSpec());
        ProviderOperation starting = provider.start(start);
        assertThat(starting.done()).isFalse();
        LoggedRequest modify = single("ModifyInstanceAttribute");
        String newUserData = new String(Base64.getDecoder().decode(Ec2Fake.form(modify, "UserData.Value")),
                StandardCharsets.UTF_8);
        assertThat(newUserData).contains("ATELIER_AGENT_TOKEN='" + VmRequests.token(WS, 3) + "'")
                .doesNotContain(VmRequests.token(WS, 1));
        assertThat(Ec2Fake.form(single("StartInstances"), "InstanceId.1")).isEqualTo(Ec2Fake.INSTANCE_ID);
        assertThat(modify.getLoggedDate()).isBeforeOrEqualTo(single("StartInstances").getLoggedDate());
        assertThat(provider.poll(start, starting.operationId()).done()).isFalse();
        assertThat(provider.poll(start, starting.operationId()).connection()).containsEntry("sshHost", Ec2Fake.PUBLIC_IP);

        // delete: terminate (the root volume has DeleteOnTermination), polled until terminated
        ec2.instanceStates("running", "shutting-down", "terminated");
        ProvisionRequest delete = VmRequests.other(WS, 4, RESOURCE, gpuSpec());
        ProviderOperation deleting = provider.delete(delete);
        assertThat(deleting.done()).isFalse();
        assertThat(Ec2Fake.form(single("TerminateInstances"), "InstanceId.1")).isEqualTo(Ec2Fake.INSTANCE_ID);
        assertThat(ec2.requests("CancelSpotInstanceRequests")).isEmpty();
        assertThat(provider.poll(delete, deleting.operationId()).done()).isFalse();
        ProviderOperation deleted = provider.poll(delete, deleting.operationId());
        assertThat(deleted.done()).isTrue();
        assertThat(deleted.resourceId()).isNull();
        assertThat(single("RunInstances")).as("one VM for the whole life of the workspace").isNotNull();
    }

    @Test
    void aSpotWorkspaceIsAPersistentRequestThatStopsOnInterruptionAndDeleteCancelsTheRequest() {
        ec2.spot(true).instanceStates("running");
        Map<String, Object> spec = gpuSpec();
        spec.put("spot", true);
        provider.create(VmRequests.starting(WS, 1, null, spec));
        LoggedRequest run = single("RunInstances");
        assertThat(Ec2Fake.form(run, "InstanceMarketOptions.MarketType")).isEqualTo("spot");
        assertThat(Ec2Fake.form(run, "InstanceMarketOptions.SpotOptions.SpotInstanceType")).isEqualTo("persistent");
        assertThat(Ec2Fake.form(run, "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior")).isEqualTo("stop");
        assertThat(tags(run, "spot-instances-request")).containsEntry("atelier-workspace-id", WS);

        provider.delete(VmRequests.other(WS, 2, RESOURCE, spec));
        assertThat(Ec2Fake.form(single("CancelSpotInstanceRequests"), "SpotInstanceRequestId.1"))
                .isEqualTo(Ec2Fake.SPOT_REQUEST_ID);
        assertThat(single("CancelSpotInstanceRequests").getLoggedDate())
                .isBeforeOrEqualTo(single("TerminateInstances").getLoggedDate());
    }

    @Test
    void throttlingIsRetriedByTheSdkWithTheSameClientTokenThenSucceeds() {
        ec2.answers("RunInstances", Ec2Fake.error(503, "ec2/error-request-limit-exceeded.xml"),
                Ec2Fake.ok(ec2Launch()));
        ProviderOperation launched = provider.create(VmRequests.starting(WS, 1, null, gpuSpec()));
        assertThat(launched.resourceId()).isEqualTo(RESOURCE);
        List<LoggedRequest> runs = ec2.requests("RunInstances");
        assertThat(runs).hasSize(2);
        assertThat(runs).extracting(r -> Ec2Fake.form(r, "ClientToken")).containsOnly(WS + "-1");
        assertThat(runs.get(1).getHeader("amz-sdk-request")).startsWith("attempt=2");
    }

    @Test
    void throttlingThatLastsIsRetryableForTheEngineAfterTheSdksOwnBoundedAttempts() {
        ec2.answer("RunInstances", Ec2Fake.error(503, "ec2/error-request-limit-exceeded.xml"));
        assertThatThrownBy(() -> provider.create(VmRequests.starting(WS, 1, null, gpuSpec())))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isTrue())
                .hasMessageContaining("RequestLimitExceeded");
        List<LoggedRequest> runs = ec2.requests("RunInstances");
        assertThat(runs).as("the SDK's 3 attempts, no second retry loop on top").hasSize(3);
        assertThat(runs.get(2).getHeader("amz-sdk-request")).isEqualTo("attempt=3; max=3");
    }

    @Test
    void aQuotaErrorIsPermanentWithEc2sOwnMessage() {
        ec2.answer("RunInstances", Ec2Fake.error(400, "ec2/error-vcpu-limit-exceeded.xml"));
        assertThatThrownBy(() -> provider.create(VmRequests.starting(WS, 1, null, gpuSpec())))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("VcpuLimitExceeded")
                .hasMessageContaining("You have requested more vCPU capacity than your current vCPU limit of 0");
        assertThat(ec2.requests("RunInstances")).hasSize(1);
    }

    @Test
    void anImageThatDoesNotExistIsPermanentAndNothingIsLaunched() {
        ec2.answer("DescribeImages", Ec2Fake.error(400, "ec2/error-invalid-ami-not-found.xml"));
        assertThatThrownBy(() -> provider.create(VmRequests.starting(WS, 1, null, gpuSpec())))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("InvalidAMIID.NotFound").hasMessageContaining("does not exist");
        assertThat(ec2.requests("RunInstances")).isEmpty();
    }

    @Test
    void insufficientCapacityWhileLaunchingFailsTheStartWithEc2sReason() {
        ec2.instanceStates("pending", "capacity");
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation launched = provider.create(create);
        provider.poll(requestOf(create, RESOURCE), launched.operationId());
        assertThatThrownBy(() -> provider.poll(requestOf(create, RESOURCE), launched.operationId()))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("Insufficient capacity");
    }

    @Test
    void aCreateRepeatedAfterACrashSendsTheSameClientTokenAndGetsTheSameInstance() {
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation first = provider.create(create);
        // The engine dies before it records the answer; after the restart the saga calls create again (a new
        // provider with new clients). EC2's tag index may not show the new instance yet (eventual consistency):
        // the client token is what makes EC2 answer with the instance it already launched.
        ProviderOperation again = newProvider().create(create);
        List<LoggedRequest> runs = ec2.requests("RunInstances");
        assertThat(runs).hasSize(2);
        assertThat(Ec2Fake.form(runs.get(0), "ClientToken")).isEqualTo(Ec2Fake.form(runs.get(1), "ClientToken"))
                .isEqualTo(create.idempotencyKey());
        assertThat(Ec2Fake.form(runs.get(0), "UserData")).as("same parameters, or EC2 answers IdempotentParameterMismatch")
                .isEqualTo(Ec2Fake.form(runs.get(1), "UserData"));
        assertThat(again.resourceId()).isEqualTo(first.resourceId()).isEqualTo(RESOURCE);
    }

    @Test
    void aCreateOfALaterBuildFindsTheWorkspacesInstanceByTagAndStartsItInsteadOfLaunchingAnother() {
        ec2.instanceTagged("stopped");
        ec2.instanceStates("stopped", "pending", "running");
        ProviderOperation result = provider.create(VmRequests.starting(WS, 3, null, gpuSpec()));
        assertThat(result.resourceId()).isEqualTo(RESOURCE);
        assertThat(ec2.requests("RunInstances")).isEmpty();
        assertThat(single("StartInstances")).isNotNull();
        LoggedRequest lookup = ec2.requests("DescribeInstances").get(0);
        assertThat(Ec2Fake.form(lookup, "Filter.1.Name")).isEqualTo("tag:atelier-workspace-id");
        assertThat(Ec2Fake.form(lookup, "Filter.1.Value.1")).isEqualTo(WS);
    }

    @Test
    void deleteWithoutARecordedResourceTerminatesWhatCarriesTheWorkspaceTag() {
        ec2.instanceTagged("running");
        ec2.instanceStates("running", "terminated");
        ProviderOperation deleting = provider.delete(VmRequests.other(WS, 2, null, gpuSpec()));
        assertThat(Ec2Fake.form(single("TerminateInstances"), "InstanceId.1")).isEqualTo(Ec2Fake.INSTANCE_ID);
        assertThat(deleting.done()).isFalse();

        server.resetRequests();
        ec2.noInstanceTagged();
        assertThat(provider.delete(VmRequests.other(WS, 2, null, gpuSpec())).done()).isTrue();
        assertThat(ec2.requests("TerminateInstances")).isEmpty();
    }

    @Test
    void inventoryListsInstancesCarryingTheLabelsAsTagFilters() {
        ec2.instanceTagged("running");
        List<ResourceDescription> found = provider.inventory(Map.of("atelier-workspace-id", WS));
        assertThat(found).singleElement().satisfies(d -> {
            assertThat(d.resourceId()).isEqualTo(RESOURCE);
            assertThat(d.state()).isEqualTo(ResourceDescription.State.RUNNING);
            assertThat(d.labels()).containsEntry("atelier-workspace-id", WS);
        });
        LoggedRequest query = single("DescribeInstances");
        Map<String, String> filters = new HashMap<>();
        IntStream.rangeClosed(1, 3).forEach(i -> filters.put(Ec2Fake.form(query, "Filter." + i + ".Name"),
                Ec2Fake.form(query, "Filter." + i + ".Value.1")));
        assertThat(filters).containsEntry("tag-key", "atelier-workspace-id").containsEntry("tag:atelier-workspace-id", WS)
                .containsKey("instance-state-name");
    }

    @Test
    void operationIdsStoredBeforeOperationIdExistedAreStillPolled() {
        // A transition saga in flight across the upgrade polls with the id it stored then: EC2's bare words.
        ec2.instanceStates("pending", "running");
        ProvisionRequest polling = VmRequests.starting(WS, 1, RESOURCE, gpuSpec());
        assertThat(provider.poll(polling, "running").operationId())
                .isEqualTo(OperationId.of(VmOperations.AWAIT_RUNNING).encode());
        assertThat(provider.poll(polling, "running").connection()).containsEntry("sshHost", Ec2Fake.PUBLIC_IP);

        ec2.instanceStates("stopping", "stopped");
        ProvisionRequest stop = VmRequests.other(WS, 2, RESOURCE, gpuSpec());
        assertThat(provider.poll(stop, "stopped").done()).isFalse();
        assertThat(provider.poll(stop, "stopped").done()).isTrue();

        ec2.instanceStates("running");
        assertThat(provider.poll(stop, "stop").operationId()).isEqualTo(OperationId.of(VmOperations.AWAIT_STOPPED).encode());
        assertThat(single("StopInstances")).isNotNull();

        ec2.instanceStates("stopped");
        assertThat(provider.poll(VmRequests.starting(WS, 3, RESOURCE, gpuSpec()), "start").done()).isFalse();
        assertThat(single("StartInstances")).isNotNull();

        ec2.instanceStates("shutting-down", "terminated");
        ProvisionRequest delete = VmRequests.other(WS, 4, RESOURCE, gpuSpec());
        assertThat(provider.poll(delete, "terminated").done()).isFalse();
        assertThat(provider.poll(delete, "terminated").done()).isTrue();

        assertThatThrownBy(() -> provider.poll(delete, "sideways")).isInstanceOf(ProviderException.class)
                .hasMessage("unknown aws-ec2 operation 'sideways'");
    }

    @Test
    void specProblemsNameTheKeyAndSayWhatIsExpected() {
        assertThat(provider.validateSpec(gpuSpec())).isEmpty();
        Map<String, Object> bad = new HashMap<>(gpuSpec());
        bad.put("region", "eu-moon-1");
        bad.put("imageId", "ubuntu-22.04");
        bad.put("diskType", "st1");
        bad.put("sshPublicKey", "not a key");
        bad.put("securityGroupIds", "sg-0b1c2d3e4f5a6b7c8");
        bad.put("instanceSize", "large");
        bad.remove("instanceType");
        assertThat(provider.validateSpec(bad)).anySatisfy(p -> assertThat(p).startsWith("unknown key 'instanceSize'")
                        .contains("known: diskGb, diskType, imageId"))
                .anySatisfy(p -> assertThat(p).contains("region 'eu-moon-1' is not a known AWS region").contains("eu-west-1"))
                .anySatisfy(p -> assertThat(p).contains("imageId 'ubuntu-22.04' is invalid").contains("ami-"))
                .anySatisfy(p -> assertThat(p).contains("instanceType is required"))
                .anySatisfy(p -> assertThat(p).contains("diskType 'st1' is not one of gp3, gp2, standard"))
                .anySatisfy(p -> assertThat(p).contains("sshPublicKey"))
                .anySatisfy(p -> assertThat(p).contains("securityGroupIds must be a list"));
        assertThat(server.getAllServeEvents()).as("validation calls no API").isEmpty();
    }

    private static String ec2Launch() {
        return CloudFake.recorded("ec2/run-instances.xml").replace("{{workspaceId}}", WS).replace("{{clientToken}}", WS + "-1");
    }

    private static ProvisionRequest requestOf(ProvisionRequest r, String resourceId) {
        return VmRequests.withResource(r, resourceId);
    }

    private static LoggedRequest single(String action) {
        return CloudFake.single(ec2.requests(action), action);
    }

    /** The tags of the TagSpecification for one resource type, as sent. */
    private static Map<String, String> tags(LoggedRequest run, String resourceType) {
        Map<String, String> tags = new HashMap<>();
        for (int i = 1; Ec2Fake.form(run, "TagSpecification." + i + ".ResourceType") != null; i++) {
            if (resourceType.equals(Ec2Fake.form(run, "TagSpecification." + i + ".ResourceType"))) {
                for (int j = 1; Ec2Fake.form(run, "TagSpecification." + i + ".Tag." + j + ".Key") != null; j++) {
                    tags.put(Ec2Fake.form(run, "TagSpecification." + i + ".Tag." + j + ".Key"),
                            Ec2Fake.form(run, "TagSpecification." + i + ".Tag." + j + ".Value"));
                }
            }
        }
        return tags;
    }
}
