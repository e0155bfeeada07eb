package dev.atelier.providers.gcp;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.atelier.providers.cloud.CloudApiFake;
import dev.atelier.providers.cloud.CloudFake;

import java.util.Arrays;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

/**
 * The Compute Engine REST API (v1) on a local WireMock server: JSON resources and zonal Operation resources that
 * go PENDING/RUNNING → DONE, as Compute Engine answers. The instance name in the paths is matched, not fixed, so
 * that the engine-level test can use generated workspace ids.
 */
public final class GceFake extends CloudApiFake<GceFake> {

    public static final String PROJECT = "atelier-ml";
    public static final String ZONE = "europe-west4-a";
    public static final String PUBLIC_IP = "34.90.118.42";
    public static final String PRIVATE_IP = "10.164.0.7";
    public static final String BASE = "/compute/v1/projects/" + PROJECT + "/zones/" + ZONE;
    public static final String INSTANCES = BASE + "/instances";
    public static final String INSTANCE = INSTANCES + "/atelier-[a-z0-9-]+";

    public GceFake(WireMockServer server) {
        super(server, "unknown");
    }

    public String instanceName() {
        return "atelier-" + workspaceId;
    }

    public GceFake defaults() {
        answer(post(urlPathMatching(INSTANCES)), ok(operation("insert", "RUNNING")));
        answer(post(urlPathMatching(INSTANCE + "/start")), ok(operation("start", "RUNNING")));
        answer(post(urlPathMatching(INSTANCE + "/stop")), ok(operation("stop", "RUNNING")));
        answer(post(urlPathMatching(INSTANCE + "/setMetadata")), ok(operation("setMetadata", "RUNNING")));
        answer(delete(urlPathMatching(INSTANCE)), ok(operation("delete", "RUNNING")));
        for (String type : List.of("insert", "start", "stop", "setMetadata", "delete")) {
            operationStates(type, "RUNNING", "DONE");
        }
        instanceStates("STAGING", "RUNNING");
        return this;
    }

    /** GET of the zonal operation of this type answers these states in turn. */
    public void operationStates(String type, String... states) {
        CloudFake.sequence(server, () -> get(urlPathMatching(BASE + "/operations/" + operationName(type))),
                Arrays.stream(states).map(s -> ok(operation(type, s))).toList());
    }

    public void operationAnswers(String type, ResponseDefinitionBuilder... responses) {
        CloudFake.sequence(server, () -> get(urlPathMatching(BASE + "/operations/" + operationName(type))), List.of(responses));
    }

    /** GET of the instance answers these statuses in turn. */
    public void instanceStates(String... statuses) {
        CloudFake.sequence(server, () -> get(urlPathMatching(INSTANCE)),
                Arrays.stream(statuses).map(s -> s.equals("404") ? error(404, "gce/error-not-found.json")
                        : ok(instance(s))).toList());
    }

    public void answer(MappingBuilder request, ResponseDefinitionBuilder response) {
        server.stubFor(request.willReturn(response));
    }

    public static String operationName(String type) {
        return "operation-1762161267123-6428a1b3c5d7e-" + type;
    }

    public String operation(String type, String status) {
        return CloudFake.recorded("gce/operation.json")
                .replace("{{operation}}", operationName(type))
                .replace("{{operationType}}", type)
                .replace("{{instance}}", instanceName())
                .replace("{{status}}", status)
                .replace("{{progress}}", status.equals("DONE") ? "100" : "0")
                .replace("{{endTime}}", status.equals("DONE") ? "\"endTime\": \"2026-11-03T01:14:41.921-08:00\"," : "");
    }

    public String quotaExceeded() {
        return CloudFake.recorded("gce/operation-quota-exceeded.json")
                .replace("{{operation}}", operationName("insert")).replace("{{instance}}", instanceName());
    }

    public String instance(String status) {
        boolean addressed = status.equals("RUNNING") || status.equals("STOPPING");
        return CloudFake.recorded("gce/instance.json")
                .replace("{{instance}}", instanceName())
                .replace("{{status}}", status)
                .replace("{{natIP}}", addressed ? "\"natIP\": \"" + PUBLIC_IP + "\"," : "")
                .replace("{{workspaceId}}", workspaceId);
    }

    public static ResponseDefinitionBuilder ok(String json) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json; charset=UTF-8").withBody(json);
    }

    public ResponseDefinitionBuilder error(int status, String recordedFile) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json; charset=UTF-8")
                .withBody(CloudFake.recorded(recordedFile).replace("{{instance}}", instanceName()));
    }
}
