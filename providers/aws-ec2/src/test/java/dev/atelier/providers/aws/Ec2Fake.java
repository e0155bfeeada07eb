package dev.atelier.providers.aws;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.providers.cloud.CloudApiFake;
import dev.atelier.providers.cloud.CloudFake;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;

/**
 * EC2's Query API on a local WireMock server: POSTed forms in, XML (namespace 2016-11-15) out, as EC2 answers.
 * Instance states are rendered into the recorded DescribeInstances response.
 */
public final class Ec2Fake extends CloudApiFake<Ec2Fake> {

    public static final String INSTANCE_ID = "i-0a1b2c3d4e5f60718";
    public static final String IMAGE_ID = "ami-0c1d2e3f4a5b6c7d8";
    public static final String PUBLIC_IP = "54.171.22.190";
    public static final String PRIVATE_IP = "10.20.1.37";
    public static final String SPOT_REQUEST_ID = "sir-8xbg7r2k";
    private static final Map<String, Integer> CODES = Map.of("pending", 0, "running", 16, "shutting-down", 32,
            "terminated", 48, "stopping", 64, "stopped", 80);

    private boolean spot;
    private String privateIp = PRIVATE_IP;

    public Ec2Fake(WireMockServer server) {
        super(server, "ws-unknown");
    }

    /** The private address instances answer with (a VM's sshd the gateway can reach: the test sshd's). */
    public Ec2Fake privateIp(String address) {
        this.privateIp = address;
        return this;
    }

    public Ec2Fake spot(boolean spot) {
        this.spot = spot;
        return this;
    }

    /** The ordinary happy answers of every action this provider uses; tests override what they need. */
    public Ec2Fake defaults() {
        privateIp = PRIVATE_IP;
        noInstanceTagged();
        answer("DescribeImages", ok(CloudFake.recorded("ec2/describe-images.xml")));
        answer("RunInstances", ok(render(CloudFake.recorded("ec2/run-instances.xml"))));
        answer("StartInstances", ok(CloudFake.recorded("ec2/start-instances.xml")));
        answer("StopInstances", ok(CloudFake.recorded("ec2/stop-instances.xml")));
        answer("TerminateInstances", ok(CloudFake.recorded("ec2/terminate-instances.xml")));
        answer("ModifyInstanceAttribute", ok(CloudFake.recorded("ec2/modify-instance-attribute.xml")));
        answer("CancelSpotInstanceRequests", ok(CloudFake.recorded("ec2/cancel-spot-instance-requests.xml")));
        instanceStates("pending", "running");
        return this;
    }

    /** DescribeInstances by instance id answers these states in turn, then the last one. */
    public void instanceStates(String... states) {
        CloudFake.sequence(server, () -> action("DescribeInstances").withFormParam("InstanceId.1", matching("i-.+")),
                Arrays.stream(states).map(s -> ok(instance(s))).toList());
    }

    /** DescribeInstances by the workspace tag finds nothing (or, after a crash, may not see the new VM yet). */
    public void noInstanceTagged() {
        server.stubFor(action("DescribeInstances").withFormParam("InstanceId.1", absent())
                .willReturn(ok(CloudFake.recorded("ec2/describe-instances-empty.xml"))));
    }

    public void instanceTagged(String state) {
        server.stubFor(action("DescribeInstances").withFormParam("InstanceId.1", absent())
                .willReturn(ok(instance(state))));
    }

    public void answer(String action, ResponseDefinitionBuilder response) {
        server.stubFor(action(action).willReturn(response));
    }

    public void answers(String action, ResponseDefinitionBuilder... responses) {
        CloudFake.sequence(server, () -> action(action), List.of(responses));
    }

    public List<LoggedRequest> requests(String action) {
        return server.findAll(postRequestedFor(com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo("/"))
                .withFormParam("Action", equalTo(action)));
    }

    public static String form(LoggedRequest request, String name) {
        var p = request.formParameter(name);
        return p == null || !p.isPresent() ? null : p.firstValue();
    }

    public static ResponseDefinitionBuilder ok(String xml) {
        return aResponse().withStatus(200).withHeader("Content-Type", "text/xml;charset=UTF-8")
                .withHeader("x-amzn-RequestId", "6f1b4a3e-2c9d-4e8f-a5b7-0d3c2e1f4a5b").withBody(xml);
    }

    public static ResponseDefinitionBuilder error(int status, String recordedFile) {
        return aResponse().withStatus(status).withHeader("Content-Type", "text/xml;charset=UTF-8")
                .withBody(CloudFake.recorded(recordedFile));
    }

    public String instance(String state) {
        boolean addressed = state.equals("pending") || state.equals("running") || state.equals("stopping");
        String reason = switch (state) {
            case "stopping", "stopped" -> "<stateReason><code>Client.UserInitiatedShutdown</code><message>"
                    + "Client.UserInitiatedShutdown: User initiated shutdown</message></stateReason>";
            case "shutting-down", "terminated" -> "<stateReason><code>Client.UserInitiatedShutdown</code><message>"
                    + "Client.UserInitiatedShutdown: User initiated shutdown</message></stateReason>";
            case "capacity" -> "<stateReason><code>Server.InsufficientInstanceCapacity</code><message>"
                    + "Server.InsufficientInstanceCapacity: Insufficient capacity.</message></stateReason>";
            default -> "";
        };
        String name = state.equals("capacity") ? "terminated" : state;
        return render(CloudFake.recorded("ec2/describe-instances.xml"))
                .replace("{{code}}", Integer.toString(CODES.get(name)))
                .replace("{{name}}", name)
                .replace("{{dnsName}}", addressed ? "ec2-54-171-22-190.eu-west-1.compute.amazonaws.com" : "")
                .replace("{{reason}}", name.equals("stopped") || name.equals("terminated")
                        ? "User initiated (2026-11-03 10:02:11 GMT)" : "")
                .replace("{{publicIpElement}}", addressed ? "<ipAddress>" + PUBLIC_IP + "</ipAddress>" : "")
                .replace("{{stateReason}}", reason)
                .replace("{{spotInstanceRequestId}}", spot ? "<instanceLifecycle>spot</instanceLifecycle>"
                        + "<spotInstanceRequestId>" + SPOT_REQUEST_ID + "</spotInstanceRequestId>" : "");
    }

    private String render(String xml) {
        return xml.replace("{{workspaceId}}", workspaceId).replace("{{clientToken}}", workspaceId + "-1")
                .replace(PRIVATE_IP, privateIp);
    }

    private static MappingBuilder action(String action) {
        return post(com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo("/"))
                .withFormParam("Action", equalTo(action));
    }
}
