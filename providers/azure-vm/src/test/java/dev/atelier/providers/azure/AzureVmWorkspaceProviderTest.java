package dev.atelier.providers.azure;

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
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The real Azure Resource Manager SDK (inner clients of azure-resourcemanager-compute/-network, azure-core's
 * pipeline and netty client) against a local fake of ARM (emulator mode: plain http, no credentials) answering with
 * recorded ARM JSON and long-running operation headers.
 */
class AzureVmWorkspaceProviderTest {

    static final String WS = VmRequests.WORKSPACE_ID;
    static final String NAME = "atelier-" + WS;
    static final String RESOURCE = "/subscriptions/" + ArmFake.SUBSCRIPTION + "/resourceGroups/atelier-workspaces"
            + "/providers/Microsoft.Compute/virtualMachines/" + NAME;
    static final String SUBNET = "/subscriptions/" + ArmFake.SUBSCRIPTION + "/resourceGroups/atelier-network"
            + "/providers/Microsoft.Network/virtualNetworks/atelier-vnet/subnets/workspaces";
    static final String NSG = "/subscriptions/" + ArmFake.SUBSCRIPTION + "/resourceGroups/atelier-network"
            + "/providers/Microsoft.Network/networkSecurityGroups/atelier-ssh";
    static final String KEY = VmRequests.SSH_KEY;
    static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final CloudFakeServer cloud = new CloudFakeServer();
    static final WireMockServer server = cloud.server();
    static final ArmFake arm = new ArmFake(server);
    AzureVmWorkspaceProvider provider;

    @BeforeEach
    void reset() {
        arm.forWorkspace(WS).defaults();
        provider = newProvider();
    }

    static AzureVmWorkspaceProvider newProvider() {
        AzureProviderProperties properties = new AzureProviderProperties(true, arm.endpoint(), Duration.ofMillis(100),
                List.of(ArmFake.SUBSCRIPTION), List.of());
        return new AzureVmWorkspaceProvider(AzureProviderConfiguration.clients(properties), properties.pollInterval(),
                properties.extraLocations(), properties.inventorySubscriptions(), null);
    }

    static Map<String, Object> gpuSpec() {
        return VmRequests.gpuSpec("alice", Map.of("subscriptionId", ArmFake.SUBSCRIPTION,
                "resourceGroup", "atelier-workspaces", "location", "westeurope", "vmSize", "Standard_NC4as_T4_v3",
                "image", "microsoft-dsvm:ubuntu-hpc:2204:latest", "diskGb", 256, "diskType", "Premium_LRS",
                "subnetId", SUBNET, "nsgId", NSG, "tags", Map.of("cost-center", "ml-research")));
    }

    @Test
    void aWorkspaceGoesThroughCreateStopStartAndDeleteWithTheRequestsArmExpects() throws Exception {
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation creating = provider.create(create);
        assertThat(creating.done()).isFalse();
        assertThat(creating.resourceId()).isEqualTo(RESOURCE);
        assertThat(operation(creating).kind()).isEqualTo("create");
        assertThat(operation(creating).handle()).startsWith("Azure-AsyncOperation " + server.baseUrl() + ArmFake.OPERATIONS);

        LoggedRequest putVm = single(RequestMethod.PUT, ArmFake.VM);
        assertThat(putVm.getUrl()).startsWith(ArmFake.VMS + "/" + NAME + "?").contains("api-version=2025-04-01");
        assertThat(putVm.getHeader("Authorization")).as("emulator mode sends no credentials").isNull();
        JsonNode body = JSON.readTree(putVm.getBodyAsString());
        assertThat(body.path("location").asText()).isEqualTo("westeurope");
        assertThat(body.at("/tags/atelier-workspace-id").asText()).isEqualTo(WS);
        assertThat(body.at("/tags/atelier-build").asText()).isEqualTo("1");
        assertThat(body.at("/tags/cost-center").asText()).isEqualTo("ml-research");
        assertThat(body.at("/properties/hardwareProfile/vmSize").asText()).isEqualTo("Standard_NC4as_T4_v3");
        assertThat(body.at("/properties/storageProfile/imageReference/publisher").asText()).isEqualTo("microsoft-dsvm");
        assertThat(body.at("/properties/storageProfile/imageReference/offer").asText()).isEqualTo("ubuntu-hpc");
        assertThat(body.at("/properties/storageProfile/imageReference/sku").asText()).isEqualTo("2204");
        assertThat(body.at("/properties/storageProfile/osDisk/diskSizeGB").asInt()).isEqualTo(256);
        assertThat(body.at("/properties/storageProfile/osDisk/deleteOption").asText()).isEqualTo("Delete");
        assertThat(body.at("/properties/storageProfile/osDisk/managedDisk/storageAccountType").asText()).isEqualTo("Premium_LRS");
        assertThat(body.at("/properties/osProfile/adminUsername").asText()).isEqualTo("alice");
        assertThat(body.at("/properties/osProfile/linuxConfiguration/disablePasswordAuthentication").asBoolean()).isTrue();
        assertThat(body.at("/properties/osProfile/linuxConfiguration/ssh/publicKeys/0/keyData").asText()).isEqualTo(KEY);
        JsonNode nic = body.at("/properties/networkProfile/networkInterfaceConfigurations/0");
        assertThat(body.at("/properties/networkProfile/networkApiVersion").asText()).isEqualTo("2020-11-01");
        assertThat(nic.at("/properties/deleteOption").asText()).isEqualTo("Delete");
        assertThat(nic.at("/properties/networkSecurityGroup/id").asText()).isEqualTo(NSG);
        assertThat(nic.at("/properties/ipConfigurations/0/properties/subnet/id").asText()).isEqualTo(SUBNET);
        assertThat(nic.at("/properties/ipConfigurations/0/properties/publicIPAddressConfiguration/properties/deleteOption")
                .asText()).isEqualTo("Delete");
        String customData = decode(body.at("/properties/osProfile/customData").asText());
        assertThat(customData).startsWith("#!/bin/sh").contains(VmRequests.AGENT_SCRIPT)
                .contains("ATELIER_AGENT_TOKEN='" + VmRequests.token(WS, 1) + "'")
                .contains("nvidia-smi > /var/log/gpu.txt").contains("metadata/instance/compute/userData");
        assertThat(decode(body.at("/properties/userData").asText())).isEqualTo(customData);

        // the operation is polled (Azure-AsyncOperation), then the VM until it runs; connection from NIC and public IP
        ProvisionRequest polling = with(create, RESOURCE);
        assertThat(provider.poll(polling, creating.operationId()).operationId()).isEqualTo(creating.operationId());
        ProviderOperation running = provider.poll(polling, creating.operationId());
        assertThat(running.done()).as("creating → running").isFalse();
        running = provider.poll(polling, running.operationId());
        assertThat(running.done()).isTrue();
        assertThat(running.connection()).containsEntry("sshHost", ArmFake.PUBLIC_IP).containsEntry("sshUser", "alice")
                .containsEntry("privateIp", ArmFake.PRIVATE_IP).containsEntry("location", "westeurope");
        assertThat(arm.requests(RequestMethod.GET, ArmFake.VM)).hasSize(2)
                .allSatisfy(r -> assertThat(r.getUrl()).contains("$expand=instanceView"));

        // stop = deallocate; the disk stays
        server.resetRequests();
        arm.vmStates("running", "deallocated");
        ProvisionRequest stop = VmRequests.other(WS, 2, RESOURCE, gpuSpec());
        ProviderOperation stopping = provider.stop(stop);
        assertThat(single(RequestMethod.POST, ArmFake.VM + "/deallocate")).isNotNull();
        provider.poll(stop, stopping.operationId());
        assertThat(provider.poll(stop, stopping.operationId()).done()).isTrue();
        assertThat(arm.requests(RequestMethod.DELETE, ".*")).isEmpty();

        // start: PATCH userData (the new build's agent), then POST start, then the VM runs
        server.resetRequests();
        arm.vmStates("deallocated", "running");
        ProvisionRequest start = VmRequests.starting(WS, 3, RESOURCE, gpuSpec());
        ProviderOperation patching = provider.start(start);
        assertThat(operation(patching).kind()).isEqualTo("userData");
        JsonNode patch = JSON.readTree(single(RequestMethod.PATCH, ArmFake.VM).getBodyAsString());
        assertThat(decode(patch.at("/properties/userData").asText()))
                .contains("ATELIER_AGENT_TOKEN='" + VmRequests.token(WS, 3) + "'").doesNotContain(VmRequests.token(WS, 1));
        assertThat(arm.requests(RequestMethod.POST, ArmFake.VM + "/start")).isEmpty();
        provider.poll(start, patching.operationId());
        ProviderOperation starting = provider.poll(start, patching.operationId());
        assertThat(operation(starting).kind()).isEqualTo("start");
        assertThat(single(RequestMethod.POST, ArmFake.VM + "/start")).isNotNull();
        provider.poll(start, starting.operationId());
        ProviderOperation started = provider.poll(start, starting.operationId());
        assertThat(started.done()).isTrue();
        assertThat(started.connection()).containsEntry("sshHost", ArmFake.PUBLIC_IP);

        // delete: the VM with its OS disk, NIC and public IP (delete options)
        ProvisionRequest delete = VmRequests.other(WS, 4, RESOURCE, gpuSpec());
        ProviderOperation deleting = provider.delete(delete);
        assertThat(single(RequestMethod.DELETE, ArmFake.VM).getUrl()).startsWith(ArmFake.VMS + "/" + NAME + "?");
        provider.poll(delete, deleting.operationId());
        ProviderOperation deleted = provider.poll(delete, deleting.operationId());
        assertThat(deleted.done()).isTrue();
        assertThat(deleted.resourceId()).isNull();
    }

    @Test
    void aSpotWorkspaceIsDeallocatedWhenEvicted() throws Exception {
        Map<String, Object> spec = gpuSpec();
        spec.put("spot", true);
        spec.put("zone", "2");
        spec.put("publicIp", false);
        provider.create(VmRequests.starting(WS, 1, null, spec));
        JsonNode body = JSON.readTree(single(RequestMethod.PUT, ArmFake.VM).getBodyAsString());
        assertThat(body.at("/properties/priority").asText()).isEqualTo("Spot");
        assertThat(body.at("/properties/evictionPolicy").asText()).isEqualTo("Deallocate");
        assertThat(body.at("/properties/billingProfile/maxPrice").asDouble()).isEqualTo(-1.0);
        assertThat(body.at("/zones/0").asText()).isEqualTo("2");
        assertThat(body.at("/properties/networkProfile/networkInterfaceConfigurations/0/properties/ipConfigurations/0"
                + "/properties/publicIPAddressConfiguration").isMissingNode()).isTrue();
    }

    @Test
    void throttlingIsRetriedByTheSdkPipelineHonouringRetryAfterThenSucceeds() {
        arm.answers(() -> put(urlPathMatching(ArmFake.VM)), arm.error(429, "arm/error-too-many-requests.json"),
                arm.accepted("create", 201, arm.vm("Creating", null)));
        ProviderOperation creating = provider.create(VmRequests.starting(WS, 1, null, gpuSpec()));
        assertThat(creating.resourceId()).isEqualTo(RESOURCE);
        List<LoggedRequest> puts = arm.requests(RequestMethod.PUT, ArmFake.VM);
        assertThat(puts).hasSize(2);
        assertThat(puts.get(0).getBodyAsString()).isEqualTo(puts.get(1).getBodyAsString());
        assertThat(puts.get(1).getLoggedDate().getTime() - puts.get(0).getLoggedDate().getTime())
                .as("Retry-After: 1 honoured").isGreaterThanOrEqualTo(900);
    }

    @Test
    void throttlingThatLastsIsRetryableForTheEngineAfterThePipelinesOwnBoundedRetries() {
        arm.answers(() -> put(urlPathMatching(ArmFake.VM)), arm.error(429, "arm/error-too-many-requests.json"));
        assertThatThrownBy(() -> provider.create(VmRequests.starting(WS, 1, null, gpuSpec())))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isTrue())
                .hasMessageContaining("TooManyRequests");
        assertThat(arm.requests(RequestMethod.PUT, ArmFake.VM)).as("azure-core's 3 retries, nothing stacked on top")
                .hasSize(4);
    }

    @Test
    void aQuotaErrorIsPermanentWithArmsMessage() {
        arm.answers(() -> put(urlPathMatching(ArmFake.VM)), arm.error(409, "arm/error-quota-exceeded.json"));
        assertThatThrownBy(() -> provider.create(VmRequests.starting(WS, 1, null, gpuSpec())))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("OperationNotAllowed")
                .hasMessageContaining("exceeding approved standardNCASv3_T4Family Cores quota");
        assertThat(arm.requests(RequestMethod.PUT, ArmFake.VM)).hasSize(1);
    }

    @Test
    void anAllocationFailureReportedByTheOperationIsPermanentWithArmsMessage() {
        arm.operationAnswers("create", ArmFake.ok(arm.allocationFailed("create")));
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation creating = provider.create(create);
        assertThatThrownBy(() -> provider.poll(with(create, RESOURCE), creating.operationId()))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("OverconstrainedAllocationRequest").hasMessageContaining("Allocation failed");
    }

    @Test
    void aVmWhoseProvisioningFailedIsReportedWithTheInstanceViewsMessage() {
        arm.vmStates("allocation-failed");
        assertThatThrownBy(() -> provider.poll(VmRequests.starting(WS, 1, RESOURCE, gpuSpec()), "await:running"))
                .isInstanceOf(ProviderException.class).hasMessageContaining("ProvisioningState/failed/AllocationFailed")
                .hasMessageContaining("sufficient capacity");
    }

    @Test
    void aCreateRepeatedAfterACrashPutsTheSameBodyToTheSameNameAndGetsTheSameVm() {
        arm.answers(() -> put(urlPathMatching(ArmFake.VM)), arm.accepted("create", 201, arm.vm("Creating", null)),
                arm.accepted("create", 200, arm.vm("Creating", null)));
        ProvisionRequest create = VmRequests.starting(WS, 1, null, gpuSpec());
        ProviderOperation first = provider.create(create);
        ProviderOperation again = newProvider().create(create);
        List<LoggedRequest> puts = arm.requests(RequestMethod.PUT, ArmFake.VM);
        assertThat(puts).hasSize(2);
        assertThat(puts).extracting(LoggedRequest::getUrl).allSatisfy(u -> assertThat(u).startsWith(ArmFake.VMS + "/" + NAME + "?"));
        assertThat(puts.get(0).getBodyAsString()).as("PUT is idempotent for the same body").isEqualTo(puts.get(1).getBodyAsString());
        assertThat(again.resourceId()).isEqualTo(first.resourceId()).isEqualTo(RESOURCE);
    }

    @Test
    void aCreateOfALaterBuildTakesOverTheWorkspacesVmWhenArmRefusesToChangeItsCustomData() {
        arm.answers(() -> put(urlPathMatching(ArmFake.VM)), arm.error(409, "arm/error-property-change-not-allowed.json"));
        arm.vmStates("deallocated");
        ProviderOperation result = provider.create(VmRequests.starting(WS, 3, null, gpuSpec()));
        assertThat(result.resourceId()).isEqualTo(RESOURCE);
        assertThat(operation(result).kind()).isEqualTo("userData");
    }

    @Test
    void deleteWithoutARecordedResourceDeletesTheWorkspacesNameAndAMissingVmIsDeletedAlready() {
        ProviderOperation deleting = provider.delete(VmRequests.other(WS, 2, null, gpuSpec()));
        assertThat(deleting.resourceId()).isEqualTo(RESOURCE);
        arm.answers(() -> com.github.tomakehurst.wiremock.client.WireMock.delete(urlPathMatching(ArmFake.VM)),
                com.github.tomakehurst.wiremock.client.WireMock.aResponse().withStatus(204));
        assertThat(provider.delete(VmRequests.other(WS, 2, RESOURCE, gpuSpec())).done()).isTrue();
    }

    @Test
    void inventoryListsTaggedVmsOfTheSubscription() {
        arm.answers(() -> get(urlPathMatching("/subscriptions/" + ArmFake.SUBSCRIPTION + "/providers/Microsoft.Compute/virtualMachines")),
                ArmFake.ok(CloudFake.recorded("arm/virtual-machines-list.json").replace("{{vm}}", arm.vm("Succeeded", "running"))));
        List<ResourceDescription> found = provider.inventory(Map.of("atelier-workspace-id", WS));
        assertThat(found).singleElement().satisfies(d -> {
            assertThat(d.resourceId()).isEqualTo(RESOURCE);
            assertThat(d.state()).isEqualTo(ResourceDescription.State.RUNNING);
        });
        assertThat(provider.inventory(Map.of("atelier-workspace-id", "another"))).isEmpty();
    }

    @Test
    void operationIdsStoredBeforeOperationIdExistedAreStillPolled() {
        // A transition saga in flight across the upgrade polls with the id it stored then.
        ProvisionRequest create = VmRequests.starting(WS, 1, RESOURCE, gpuSpec());
        String statusUrl = server.baseUrl() + ArmFake.OPERATIONS + "8d3f0c1e-5a2b-4e7d-9c6f-0a1b2c3d4e5f?api-version=2025-04-01";
        ProviderOperation polled = provider.poll(create, "create " + statusUrl);
        assertThat(operation(polled)).isEqualTo(OperationId.of("create", "Azure-AsyncOperation " + statusUrl));
        assertThat(operation(provider.poll(create, "create " + statusUrl)).kind()).as("Succeeded: creating → running")
                .isEqualTo(VmOperations.AWAIT_RUNNING);
        assertThat(provider.poll(create, "await:running").done()).isTrue();

        server.resetRequests();
        arm.vmStates("deallocating", "deallocated");
        ProvisionRequest stop = VmRequests.other(WS, 2, RESOURCE, gpuSpec());
        assertThat(provider.poll(stop, "await:deallocated").done()).isFalse();
        assertThat(provider.poll(stop, "await:deallocated").done()).isTrue();
        arm.vmStates("running");
        assertThat(operation(provider.poll(stop, "again:stop")).kind()).isEqualTo("deallocate");
        String location = server.baseUrl() + ArmFake.OPERATIONS + "3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f?monitor=true";
        arm.answers(() -> get(urlPathMatching(ArmFake.OPERATIONS + "3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f")),
                com.github.tomakehurst.wiremock.client.WireMock.aResponse().withStatus(202),
                com.github.tomakehurst.wiremock.client.WireMock.aResponse().withStatus(200));
        assertThat(operation(provider.poll(stop, "location:deallocate " + location)))
                .isEqualTo(OperationId.of("deallocate", "Location " + location));
        assertThat(provider.poll(stop, "location:deallocate " + location).done()).isTrue();

        arm.vmStates("deallocated");
        assertThat(operation(provider.poll(VmRequests.starting(WS, 3, RESOURCE, gpuSpec()), "again:start")).kind())
                .isEqualTo("userData");
        assertThatThrownBy(() -> provider.poll(stop, "await:sideways")).isInstanceOf(ProviderException.class)
                .hasMessage("unknown azure-vm operation 'await:sideways'");
    }

    @Test
    void specProblemsNameTheKeyAndSayWhatIsExpected() {
        assertThat(provider.validateSpec(gpuSpec())).isEmpty();
        Map<String, Object> bad = new HashMap<>(gpuSpec());
        bad.put("location", "moon-north");
        bad.put("image", "ubuntu");
        bad.put("subnetId", "workspaces");
        bad.put("sshUser", "admin");
        bad.put("size", "Standard_D4s_v5");
        bad.remove("sshPublicKey");
        assertThat(provider.validateSpec(bad))
                .anySatisfy(p -> assertThat(p).startsWith("unknown key 'size'").contains("known: diskGb, diskType, image"))
                .anySatisfy(p -> assertThat(p).contains("location 'moon-north' is not a known Azure region").contains("westeurope"))
                .anySatisfy(p -> assertThat(p).contains("image 'ubuntu' is invalid").contains("marketplace URN"))
                .anySatisfy(p -> assertThat(p).contains("subnetId 'workspaces' is invalid"))
                .anySatisfy(p -> assertThat(p).contains("sshUser 'admin' is reserved"))
                .anySatisfy(p -> assertThat(p).contains("sshPublicKey is required"));
        assertThat(server.getAllServeEvents()).as("validation calls no API").isEmpty();
    }

    /** The operation as the provider wrote it: its kind is the step, its handle where ARM reports on it. */
    private static OperationId operation(ProviderOperation op) {
        return OperationId.parse(AzureVmWorkspaceProvider.NAME, op.operationId());
    }

    private static String decode(String base64) {
        return CloudFake.base64Text(base64);
    }

    private static ProvisionRequest with(ProvisionRequest r, String resourceId) {
        return VmRequests.withResource(r, resourceId);
    }

    private static LoggedRequest single(RequestMethod method, String pathRegex) {
        return arm.single(method, pathRegex);
    }
}
