package dev.atelier.providers.gcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.RequestMethod;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.providers.cloud.CloudFake;
import dev.atelier.providers.cloud.CloudFakeServer;
import dev.atelier.providers.cloud.Idempotency;
import dev.atelier.providers.cloud.VmOperations;
import dev.atelier.providers.cloud.VmRequests;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The real google-cloud-compute REST client against a local fake of the Compute Engine API (emulator mode: plain
 * http, no credentials) answering with recorded JSON resources and zonal Operations.
 */
class GceWorkspaceProviderTest {

    static final String WS = VmRequests.WORKSPACE_ID;
    static final String NAME = "atelier-" + WS;
    static final String RESOURCE = "projects/atelier-ml/zones/europe-west4-a/instances/" + NAME;
    static final String KEY = VmRequests.SSH_KEY;
    static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final CloudFakeServer cloud = new CloudFakeServer();
    static final WireMockServer server = cloud.server();
    static final GceFake gce = new GceFake(server);
    GceWorkspaceProvider provider;

    @BeforeEach
    void reset() {
        gce.forWorkspace(WS).defaults();
        provider = newProvider();
    }

    static GceWorkspaceProvider newProvider() {
        GcpProviderProperties properties = new GcpProviderProperties(true, gce.endpoint(), null,
                Duration.ofMillis(100), List.of("atelier-ml"), List.of());
        return new GceWorkspaceProvider(() -> GcpProviderConfiguration.clients(properties), null,
                properties.pollInterval(), properties.extraZones(), properties.inventoryProjects(), null);
    }

    static Map<String, Object> gpuSpec() {
        return VmRequests.gpuSpec("alice", Map.of("project", "atelier-ml", "zone", "europe-west4-a",
                "machineType", "n1-standard-8", "accelerators", List.of(Map.of("type", "nvidia-tesla-t4", "count", 1)),
                "image", "projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204-py310",
                "diskGb", 200, "diskType", "pd-ssd", "subnetwork", "workspaces", "networkTags", List.of("atelier-ssh"),
                "labels", Map.of("team", "ml")));
    }

    @Test
    void aWorkspaceGoesThroughCreateStopStartAndDeleteWithTheRequestsComputeEngineExpects() throws Exception {
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation inserting = provider.create(create);
        assertThat(inserting.done()).isFalse();
        assertThat(inserting.resourceId()).isEqualTo(RESOURCE);
        assertThat(inserting.operationId()).isEqualTo(zonal("insert"));

        LoggedRequest insert = single(RequestMethod.POST, GceFake.INSTANCES);
        assertThat(insert.queryParameter("requestId").firstValue())
                .isEqualTo(Idempotency.requestUuid(WS + "-1", "insert").toString());
        assertThat(insert.getHeader("Authorization")).as("emulator mode sends no credentials").isNull();
        JsonNode body = JSON.readTree(insert.getBodyAsString());
        assertThat(body.path("name").asText()).isEqualTo(NAME);
        assertThat(body.path("machineType").asText()).isEqualTo("zones/europe-west4-a/machineTypes/n1-standard-8");
        assertThat(body.at("/guestAccelerators/0/acceleratorType").asText())
                .isEqualTo("zones/europe-west4-a/acceleratorTypes/nvidia-tesla-t4");
        assertThat(body.at("/guestAccelerators/0/acceleratorCount").asInt()).isEqualTo(1);
        assertThat(body.at("/scheduling/onHostMaintenance").asText()).as("GPUs cannot live-migrate").isEqualTo("TERMINATE");
        assertThat(body.at("/scheduling/provisioningModel").asText()).isEqualTo("STANDARD");
        assertThat(body.at("/disks/0/boot").asBoolean()).isTrue();
        assertThat(body.at("/disks/0/autoDelete").asBoolean()).isTrue();
        assertThat(body.at("/disks/0/initializeParams/sourceImage").asText())
                .isEqualTo("projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204-py310");
        assertThat(body.at("/disks/0/initializeParams/diskSizeGb").asText()).isEqualTo("200");
        assertThat(body.at("/disks/0/initializeParams/diskType").asText()).isEqualTo("zones/europe-west4-a/diskTypes/pd-ssd");
        assertThat(body.at("/networkInterfaces/0/network").asText()).isEqualTo("global/networks/default");
        assertThat(body.at("/networkInterfaces/0/subnetwork").asText()).isEqualTo("regions/europe-west4/subnetworks/workspaces");
        assertThat(body.at("/networkInterfaces/0/accessConfigs/0/type").asText()).isEqualTo("ONE_TO_ONE_NAT");
        assertThat(body.at("/tags/items/0").asText()).isEqualTo("atelier-ssh");
        assertThat(body.at("/labels/atelier-workspace-id").asText()).isEqualTo(WS);
        assertThat(body.at("/labels/atelier-build").asText()).isEqualTo("1");
        assertThat(body.at("/labels/team").asText()).isEqualTo("ml");
        Map<String, String> metadata = metadata(body.at("/metadata/items"));
        assertThat(metadata.get("user-data")).startsWith("#!/bin/sh").contains(VmRequests.AGENT_SCRIPT)
                .contains("ATELIER_AGENT_TOKEN='" + VmRequests.token(WS, 1) + "'")
                .contains("nvidia-smi > /var/log/gpu.txt").contains("computeMetadata/v1/instance/attributes/user-data");
        assertThat(metadata.get("ssh-keys")).isEqualTo("alice:" + KEY);
        assertThat(metadata.get("startup-script")).as("for images without cloud-init")
                .contains("command -v cloud-init").contains("attributes/user-data");

        // the insert operation is polled until DONE, then the instance until RUNNING
        ProvisionRequest polling = with(create, RESOURCE);
        ProviderOperation stillInserting = provider.poll(polling, inserting.operationId());
        assertThat(stillInserting.operationId()).isEqualTo(inserting.operationId());
        ProviderOperation staging = provider.poll(polling, inserting.operationId());
        assertThat(staging.done()).isFalse();
        assertThat(staging.operationId()).isEqualTo(OperationId.of(VmOperations.AWAIT_RUNNING).encode());
        ProviderOperation running = provider.poll(polling, staging.operationId());
        assertThat(running.done()).isTrue();
        assertThat(running.connection()).containsEntry("sshHost", GceFake.PUBLIC_IP).containsEntry("sshUser", "alice")
                .containsEntry("privateIp", GceFake.PRIVATE_IP).containsEntry("zone", "europe-west4-a");
        assertThat(gce.requests(RequestMethod.GET, GceFake.BASE + "/operations/.*")).hasSize(2);

        // stop: the boot disk stays
        gce.instanceStates("RUNNING", "TERMINATED");
        ProvisionRequest stop = VmRequests.other(WS, 2, RESOURCE, gpuSpec());
        ProviderOperation stopping = provider.stop(stop);
        assertThat(single(RequestMethod.POST, GceFake.INSTANCE + "/stop").queryParameter("requestId").firstValue())
                .isEqualTo(Idempotency.requestUuid(WS + "-2", "stop").toString());
        provider.poll(stop, stopping.operationId());
        assertThat(provider.poll(stop, stopping.operationId()).done()).isTrue();

        // start: new user-data (agent of build 3) first, with the metadata fingerprint; then start
        gce.instanceStates("TERMINATED", "RUNNING");
        ProvisionRequest start = VmRequests.starting(WS, 3, RESOURCE, gpuSpec());
        ProviderOperation settingMetadata = provider.start(start);
        assertThat(settingMetadata.operationId()).isEqualTo(zonal("setMetadata"));
        JsonNode setMetadata = JSON.readTree(single(RequestMethod.POST, GceFake.INSTANCE + "/setMetadata").getBodyAsString());
        assertThat(setMetadata.path("fingerprint").asText()).isEqualTo("5cG1x8EwAd4=");
        Map<String, String> newMetadata = metadata(setMetadata.path("items"));
        assertThat(newMetadata.get("user-data")).contains("ATELIER_AGENT_TOKEN='" + VmRequests.token(WS, 3) + "'");
        assertThat(newMetadata).containsEntry("enable-oslogin", "FALSE").containsEntry("ssh-keys", "alice:" + KEY)
                .containsKey("startup-script");
        assertThat(setMetadata.path("items")).as("each key once").hasSize(4);
        assertThat(gce.requests(RequestMethod.POST, GceFake.INSTANCE + "/start")).isEmpty();
        provider.poll(start, settingMetadata.operationId());
        ProviderOperation starting = provider.poll(start, settingMetadata.operationId());
        assertThat(starting.operationId()).isEqualTo(zonal("start"));
        assertThat(single(RequestMethod.POST, GceFake.INSTANCE + "/start").queryParameter("requestId").firstValue())
                .isEqualTo(Idempotency.requestUuid(WS + "-3", "start").toString());
        provider.poll(start, starting.operationId());
        ProviderOperation started = provider.poll(start, starting.operationId());
        assertThat(started.done()).isTrue();
        assertThat(started.connection()).containsEntry("sshHost", GceFake.PUBLIC_IP);

        // delete: the VM and its auto-delete boot disk
        ProvisionRequest delete = VmRequests.other(WS, 4, RESOURCE, gpuSpec());
        ProviderOperation deleting = provider.delete(delete);
        assertThat(single(RequestMethod.DELETE, GceFake.INSTANCE).queryParameter("requestId").firstValue())
                .isEqualTo(Idempotency.requestUuid(WS + "-4", "delete").toString());
        assertThat(provider.poll(delete, deleting.operationId()).done()).isFalse();
        ProviderOperation deleted = provider.poll(delete, deleting.operationId());
        assertThat(deleted.done()).isTrue();
        assertThat(deleted.resourceId()).isNull();
        assertThat(gce.requests(RequestMethod.POST, GceFake.INSTANCES)).as("one insert in the whole life").hasSize(1);
    }

    @Test
    void aSpotWorkspaceIsStoppedNotDeletedWhenPreempted() throws Exception {
        Map<String, Object> spec = gpuSpec();
        spec.put("spot", true);
        spec.remove("accelerators");
        spec.put("machineType", "e2-standard-4");
        provider.create(VmRequests.starting(WS, 1, null, spec));
        JsonNode body = JSON.readTree(single(RequestMethod.POST, GceFake.INSTANCES).getBodyAsString());
        assertThat(body.at("/scheduling/provisioningModel").asText()).isEqualTo("SPOT");
        assertThat(body.at("/scheduling/instanceTerminationAction").asText()).isEqualTo("STOP");
        assertThat(body.at("/guestAccelerators").isMissingNode() || body.at("/guestAccelerators").isEmpty()).isTrue();
    }

    @Test
    void throttlingOfTheInsertIsRetryableAndTheRetryCarriesTheSameRequestId() {
        gce.answers(() -> post(urlPathMatching(GceFake.INSTANCES)), gce.error(429, "gce/error-rate-limit-exceeded.json"),
                GceFake.ok(gce.operation("insert", "RUNNING")));
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        assertThatThrownBy(() -> provider.create(create))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isTrue())
                .hasMessageContaining("rateLimitExceeded").hasMessageContaining("Queries per minute");
        assertThat(gce.requests(RequestMethod.POST, GceFake.INSTANCES)).as("the SDK does not repeat an insert itself")
                .hasSize(1);

        ProviderOperation retried = provider.create(create);   // the engine's retry, after its backoff
        assertThat(retried.resourceId()).isEqualTo(RESOURCE);
        assertThat(gce.requests(RequestMethod.POST, GceFake.INSTANCES)).extracting(r -> r.queryParameter("requestId").firstValue())
                .containsExactly(Idempotency.requestUuid(WS + "-1", "insert").toString(),
                        Idempotency.requestUuid(WS + "-1", "insert").toString());
    }

    @Test
    void aFailingReadIsRetriedByTheSdkItself() {
        gce.answers(() -> get(urlPathMatching(GceFake.INSTANCE)), gce.error(503, "gce/error-backend-error.json"),
                GceFake.ok(gce.instance("RUNNING")));
        ProviderOperation running = provider.poll(VmRequests.starting(WS, 1, RESOURCE, gpuSpec()), "await:RUNNING");
        assertThat(running.done()).isTrue();
        assertThat(gce.requests(RequestMethod.GET, GceFake.INSTANCE)).hasSize(2);
    }

    @Test
    void aQuotaErrorInTheOperationIsPermanentWithGooglesMessage() {
        gce.operationAnswers("insert", GceFake.ok(gce.quotaExceeded()));
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation inserting = provider.create(create);
        assertThatThrownBy(() -> provider.poll(with(create, RESOURCE), inserting.operationId()))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("QUOTA_EXCEEDED").hasMessageContaining("Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0");
    }

    @Test
    void aCreateRepeatedAfterACrashSendsTheSameRequestIdAndGetsTheSameOperation() throws Exception {
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation first = provider.create(create);
        ProviderOperation again = newProvider().create(create);
        List<LoggedRequest> inserts = gce.requests(RequestMethod.POST, GceFake.INSTANCES);
        assertThat(inserts).hasSize(2);
        assertThat(inserts).extracting(r -> r.queryParameter("requestId").firstValue()).containsOnly(
                Idempotency.requestUuid(create.idempotencyKey(), "insert").toString());
        assertThat(JSON.readTree(inserts.get(1).getBodyAsString()).path("name").asText()).isEqualTo(NAME);
        assertThat(again.resourceId()).isEqualTo(first.resourceId());
        assertThat(again.operationId()).as("Compute Engine answers a repeated requestId with the original operation")
                .isEqualTo(first.operationId());
    }

    @Test
    void aCreateOfALaterBuildFindsTheWorkspacesInstanceByItsNameAndStartsIt() {
        gce.answer(post(urlPathMatching(GceFake.INSTANCES)), gce.error(409, "gce/error-already-exists.json"));
        gce.instanceStates("TERMINATED");
        ProviderOperation result = provider.create(VmRequests.starting(WS, 3, null, gpuSpec()));
        assertThat(result.resourceId()).isEqualTo(RESOURCE);
        assertThat(result.operationId()).isEqualTo(zonal("setMetadata"));
    }

    @Test
    void anInstanceWithTheNameButAnotherWorkspacesLabelIsNotTakenOver() {
        gce.answer(post(urlPathMatching(GceFake.INSTANCES)), gce.error(409, "gce/error-already-exists.json"));
        gce.forWorkspace("someone-else");
        gce.instanceStates("RUNNING");
        gce.forWorkspace(WS);
        assertThatThrownBy(() -> provider.create(VmRequests.starting(WS, 1, null, gpuSpec())))
                .isInstanceOf(ProviderException.class).hasMessageContaining("does not carry this workspace's label");
    }

    @Test
    void deleteWithoutARecordedResourceDeletesTheWorkspacesNameAndAMissingInstanceIsDeletedAlready() {
        ProviderOperation deleting = provider.delete(VmRequests.other(WS, 2, null, gpuSpec()));
        assertThat(deleting.resourceId()).isEqualTo(RESOURCE);
        assertThat(single(RequestMethod.DELETE, GceFake.INSTANCE).getUrl()).contains("/instances/" + NAME + "?");

        gce.answer(com.github.tomakehurst.wiremock.client.WireMock.delete(urlPathMatching(GceFake.INSTANCE)),
                gce.error(404, "gce/error-not-found.json"));
        assertThat(provider.delete(VmRequests.other(WS, 2, RESOURCE, gpuSpec())).done()).isTrue();
    }

    @Test
    void inventoryListsLabelledInstancesOfEveryZoneWithALabelFilter() {
        gce.answer(get(urlPathMatching("/compute/v1/projects/atelier-ml/aggregated/instances")), GceFake.ok(
                CloudFake.recorded("gce/aggregated-instances.json").replace("{{instanceJson}}", gce.instance("RUNNING"))));
        List<ResourceDescription> found = provider.inventory(Map.of("atelier-workspace-id", WS));
        assertThat(found).singleElement().satisfies(d -> {
            assertThat(d.resourceId()).isEqualTo(RESOURCE);
            assertThat(d.state()).isEqualTo(ResourceDescription.State.RUNNING);
            assertThat(d.labels()).containsEntry("atelier-workspace-id", WS);
        });
        LoggedRequest list = single(RequestMethod.GET, "/compute/v1/projects/atelier-ml/aggregated/instances");
        assertThat(list.queryParameter("filter").firstValue()).isEqualTo(
                "(labels.atelier-workspace-id:*) AND (labels.atelier-workspace-id = \"" + WS + "\")");
    }

    @Test
    void operationIdsStoredBeforeOperationIdExistedAreStillPolled() {
        // A transition saga in flight across the upgrade polls with the id it stored then.
        ProvisionRequest create = VmRequests.starting(WS, 1, RESOURCE, gpuSpec());
        String oldInsert = "operation:insert:" + GceFake.operationName("insert");
        assertThat(provider.poll(create, oldInsert).operationId()).isEqualTo(zonal("insert"));
        assertThat(provider.poll(create, oldInsert).operationId()).isEqualTo(OperationId.of(VmOperations.AWAIT_RUNNING).encode());
        assertThat(gce.requests(RequestMethod.GET, GceFake.BASE + "/operations/" + GceFake.operationName("insert")))
                .hasSize(2);

        gce.instanceStates("STOPPING", "TERMINATED");
        ProvisionRequest stop = VmRequests.other(WS, 2, RESOURCE, gpuSpec());
        assertThat(provider.poll(stop, "await:TERMINATED").done()).isFalse();
        assertThat(provider.poll(stop, "await:TERMINATED").done()).isTrue();

        gce.instanceStates("TERMINATED");
        ProviderOperation again = provider.poll(VmRequests.starting(WS, 3, RESOURCE, gpuSpec()), "again:start");
        assertThat(again.operationId()).isEqualTo(zonal("setMetadata"));

        assertThatThrownBy(() -> provider.poll(stop, "await:SIDEWAYS")).isInstanceOf(ProviderException.class)
                .hasMessage("unknown gcp-compute operation 'await:SIDEWAYS'");
    }

    @Test
    void specProblemsNameTheKeyAndSayWhatIsExpected() {
        assertThat(provider.validateSpec(gpuSpec())).isEmpty();
        Map<String, Object> bad = new HashMap<>(gpuSpec());
        bad.put("zone", "europe-west4-q");
        bad.put("image", "ubuntu-22.04");
        bad.put("accelerators", List.of(Map.of("type", "nvidia-tesla-t4", "count", 3)));
        bad.put("labels", Map.of("Team", "ml"));
        bad.put("disk", 100);
        bad.remove("project");
        assertThat(provider.validateSpec(bad))
                .anySatisfy(p -> assertThat(p).startsWith("unknown key 'disk'").contains("known: accelerators, diskGb"))
                .anySatisfy(p -> assertThat(p).contains("zone 'europe-west4-q' is not a known zone of europe-west4")
                        .contains("europe-west4-a"))
                .anySatisfy(p -> assertThat(p).contains("image 'ubuntu-22.04' is invalid").contains("projects/<project>/global/images"))
                .anySatisfy(p -> assertThat(p).contains("accelerators count of nvidia-tesla-t4 must be 1, 2, 4, 8 or 16"))
                .anySatisfy(p -> assertThat(p).contains("labels key 'Team' is invalid"))
                .anySatisfy(p -> assertThat(p).contains("project is required"));
        assertThat(provider.validateSpec(Map.of("zone", "mars-north1-a", "project", "atelier-ml",
                "machineType", "e2-medium", "image", "projects/debian-cloud/global/images/family/debian-12")))
                .singleElement().asString().contains("not a known Compute Engine zone").contains("europe-west4");
        assertThat(server.getAllServeEvents()).as("validation calls no API").isEmpty();
    }

    /** The id of the zonal operation of this action, as the provider writes it (kind: the action; handle: its name). */
    private static String zonal(String action) {
        return OperationId.of(action, GceFake.operationName(action)).encode();
    }

    private static Map<String, String> metadata(JsonNode items) {
        Map<String, String> out = new HashMap<>();
        items.forEach(i -> out.put(i.path("key").asText(), i.path("value").asText()));
        return out;
    }

    private static ProvisionRequest with(ProvisionRequest r, String resourceId) {
        return VmRequests.withResource(r, resourceId);
    }

    private static LoggedRequest single(RequestMethod method, String pathRegex) {
        return gce.single(method, pathRegex);
    }
}
