package dev.atelier.providers.azure;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.atelier.providers.cloud.CloudApiFake;
import dev.atelier.providers.cloud.CloudFake;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

/**
 * Azure Resource Manager (Microsoft.Compute 2025-04-01, Microsoft.Network 2025-03-01) on a local WireMock server:
 * ARM JSON resources, and long-running operations announced with {@code Azure-AsyncOperation} (and
 * {@code Location}) headers whose status resource goes InProgress → Succeeded/Failed, as ARM answers.
 */
public final class ArmFake extends CloudApiFake<ArmFake> {

    public static final String SUBSCRIPTION = "5f2a8c1e-3b4d-4e6f-9a0b-1c2d3e4f5a6b";
    public static final String GROUP = "atelier-workspaces";
    public static final String PUBLIC_IP = "20.73.181.44";
    public static final String PRIVATE_IP = "10.30.2.4";
    public static final String VMS = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/" + GROUP
            + "/providers/Microsoft.Compute/virtualMachines";
    public static final String VM = VMS + "/atelier-[a-z0-9-]+";
    public static final String NETWORK = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/" + GROUP + "/providers/Microsoft.Network";
    public static final String OPERATIONS = "/subscriptions/" + SUBSCRIPTION + "/providers/Microsoft.Compute/locations/westeurope/operations/";
    private static final Map<String, String> OPERATION_IDS = Map.of(
            "create", "8d3f0c1e-5a2b-4e7d-9c6f-0a1b2c3d4e5f",
            "userData", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "start", "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
            "deallocate", "3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f",
            "delete", "4d5e6f7a-8b9c-4d0e-1f2a-3b4c5d6e7f80");
    private static final Map<String, String> STATUSES = Map.of(
            "creating", status("ProvisioningState/creating", "Info", "Creating", null),
            "starting", status("ProvisioningState/updating", "Info", "Updating", null) + ","
                    + status("PowerState/starting", "Info", "VM starting", null),
            "running", status("ProvisioningState/succeeded", "Info", "Provisioning succeeded", null) + ","
                    + status("PowerState/running", "Info", "VM running", null),
            "deallocating", status("ProvisioningState/updating", "Info", "Updating", null) + ","
                    + status("PowerState/deallocating", "Info", "VM deallocating", null),
            "deallocated", status("ProvisioningState/succeeded", "Info", "Provisioning succeeded", null) + ","
                    + status("PowerState/deallocated", "Info", "VM deallocated", null),
            "allocation-failed", status("ProvisioningState/failed/AllocationFailed", "Error", "Provisioning failed",
                    "Allocation failed. We do not have sufficient capacity for the requested VM size in this region. "
                            + "Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance"));

    public ArmFake(WireMockServer server) {
        super(server, "unknown");
    }

    public String vmName() {
        return "atelier-" + workspaceId;
    }

    public ArmFake defaults() {
        server.stubFor(put(urlPathMatching(VM)).willReturn(accepted("create", 201, vm("Creating", null))));
        server.stubFor(patch(urlPathMatching(VM)).willReturn(accepted("userData", 200, vm("Updating", null))));
        server.stubFor(post(urlPathMatching(VM + "/start")).willReturn(accepted("start", 202, null)));
        server.stubFor(post(urlPathMatching(VM + "/deallocate")).willReturn(accepted("deallocate", 202, null)));
        server.stubFor(delete(urlPathMatching(VM)).willReturn(accepted("delete", 202, null)));
        OPERATION_IDS.keySet().forEach(op -> operationStates(op, "InProgress", "Succeeded"));
        vmStates("creating", "running");
        server.stubFor(get(urlPathMatching(NETWORK + "/networkInterfaces/atelier-[a-z0-9-]+-nic"))
                .willReturn(ok(render(CloudFake.recorded("arm/network-interface.json")))));
        server.stubFor(get(urlPathMatching(NETWORK + "/publicIPAddresses/atelier-[a-z0-9-]+-pip"))
                .willReturn(ok(render(CloudFake.recorded("arm/public-ip-address.json")))));
        return this;
    }

    /** GET of the operation status resource answers these states in turn. */
    public void operationStates(String operation, String... states) {
        CloudFake.sequence(server, () -> get(urlPathMatching(OPERATIONS + OPERATION_IDS.get(operation))),
                Arrays.stream(states).map(s -> ok(asyncOperation(operation, s))).toList());
    }

    public void operationAnswers(String operation, ResponseDefinitionBuilder... responses) {
        CloudFake.sequence(server, () -> get(urlPathMatching(OPERATIONS + OPERATION_IDS.get(operation))), List.of(responses));
    }

    /** GET of the VM (with its instance view) answers these states in turn ("404" for a missing VM). */
    public void vmStates(String... states) {
        CloudFake.sequence(server, () -> get(urlPathMatching(VM)), Arrays.stream(states)
                .map(s -> s.equals("404") ? error(404, "arm/error-resource-not-found.json")
                        : ok(vm(s.equals("creating") ? "Creating" : s.equals("allocation-failed") ? "Failed"
                        : s.endsWith("ing") ? "Updating" : "Succeeded", s))).toList());
    }

    /** A long-running operation accepted: ARM's headers point at the operation status resource. */
    public ResponseDefinitionBuilder accepted(String operation, int status, String body) {
        String statusUrl = server.baseUrl() + OPERATIONS + OPERATION_IDS.get(operation)
                + "?p=5d6c2a40-1f3e-4b8a-9c7d-0e1f2a3b4c5d&api-version=2025-04-01";
        ResponseDefinitionBuilder response = aResponse().withStatus(status)
                .withHeader("Azure-AsyncOperation", statusUrl)
                .withHeader("x-ms-ratelimit-remaining-resource", "Microsoft.Compute/PutVM3Min;238,Microsoft.Compute/PutVM30Min;1196")
                .withHeader("x-ms-request-id", OPERATION_IDS.get(operation))
                .withHeader("Cache-Control", "no-cache");
        if (status == 202) {
            response.withHeader("Location", statusUrl.replace("/operations/", "/operations/") + "&monitor=true")
                    .withHeader("Retry-After", "10");
        }
        if (body != null) {
            response.withHeader("Content-Type", "application/json; charset=utf-8").withBody(body);
        }
        return response;
    }

    public String vm(String provisioningState, String view) {
        String instanceView = view == null ? "" : CloudFake.recorded("arm/instance-view.json")
                .replace("{{statuses}}", STATUSES.get(view));
        return render(CloudFake.recorded("arm/virtual-machine.json")
                .replace("{{provisioningState}}", provisioningState)
                .replace("{{instanceView}}", instanceView));
    }

    public String asyncOperation(String operation, String state) {
        return CloudFake.recorded("arm/async-operation.json")
                .replace("{{operation}}", OPERATION_IDS.get(operation))
                .replace("{{status}}", state)
                .replace("{{endTime}}", state.equals("InProgress") ? "" : "\"endTime\": \"2026-11-03T09:15:41.3126519+00:00\",");
    }

    public String allocationFailed(String operation) {
        return CloudFake.recorded("arm/async-operation-allocation-failed.json").replace("{{operation}}", OPERATION_IDS.get(operation));
    }

    public static ResponseDefinitionBuilder ok(String json) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json; charset=utf-8").withBody(json);
    }

    public ResponseDefinitionBuilder error(int status, String recordedFile) {
        ResponseDefinitionBuilder response = aResponse().withStatus(status)
                .withHeader("Content-Type", "application/json; charset=utf-8")
                .withHeader("x-ms-failure-cause", status == 429 ? "gateway" : "service")
                .withBody(render(CloudFake.recorded(recordedFile)));
        if (status == 429) {
            response.withHeader("Retry-After", "1");
        }
        return response;
    }

    private String render(String json) {
        return json.replace("{{name}}", vmName()).replace("{{workspaceId}}", workspaceId);
    }

    private static String status(String code, String level, String display, String message) {
        return "{\"code\": \"" + code + "\", \"level\": \"" + level + "\", \"displayStatus\": \"" + display + "\""
                + (message == null ? "" : ", \"message\": \"" + message + "\"")
                + ", \"time\": \"2026-11-03T09:16:02.6517282+00:00\"}";
    }
}
