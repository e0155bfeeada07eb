package dev.atelier.providers.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.RequestMethod;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.providers.aws.Ec2Fake;
import dev.atelier.providers.azure.ArmFake;
import dev.atelier.providers.gcp.GceFake;
import dev.atelier.gateway.SshClient;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole path for the three cloud providers, on one engine (one Spring context for all three): HTTP API →
 * template validation → workspace saga → the real cloud SDK → a local fake of the cloud's API answering in its wire
 * format, through create, stop, start and delete; and a quota error that leaves the workspace FAILED with the
 * cloud's own message.
 *
 * <p>The cloud properties make this a Spring context of its own (with its own database, see EngineIntegrationTest);
 * it is closed after the class so that its engine does not keep running beside the others.
 */
@DirtiesContext
class CloudProvidersIT extends EngineIntegrationTest {

    static final String KEY = VmRequests.SSH_KEY;
    static final ObjectMapper JSON = new ObjectMapper();
    static final WireMockServer EC2_SERVER;
    static final WireMockServer GCE_SERVER;
    static final WireMockServer ARM_SERVER;
    static final Ec2Fake EC2;
    static final GceFake GCE;
    static final ArmFake ARM;
    static final int GATEWAY_PORT = freePort();

    @org.springframework.beans.factory.annotation.Autowired
    dev.atelier.provider.WorkspaceKey gatewayKey;

    static {
        // The AWS SDK's default credentials chain starts with these system properties.
        System.setProperty("aws.accessKeyId", "AKIAIOSFODNN7EXAMPLE");
        System.setProperty("aws.secretAccessKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        EC2_SERVER = CloudFake.start();
        GCE_SERVER = CloudFake.start();
        ARM_SERVER = CloudFake.start();
        EC2 = new Ec2Fake(EC2_SERVER);
        GCE = new GceFake(GCE_SERVER);
        ARM = new ArmFake(ARM_SERVER);
    }

    @DynamicPropertySource
    static void clouds(DynamicPropertyRegistry registry) {
        registry.add("atelier.providers.aws.enabled", () -> "true");
        registry.add("atelier.providers.aws.endpoint", EC2_SERVER::baseUrl);
        registry.add("atelier.providers.aws.poll-interval", () -> "PT0.1S");
        registry.add("atelier.providers.gcp.enabled", () -> "true");
        registry.add("atelier.providers.gcp.endpoint", GCE_SERVER::baseUrl);
        registry.add("atelier.providers.gcp.poll-interval", () -> "PT0.1S");
        registry.add("atelier.providers.azure.enabled", () -> "true");
        registry.add("atelier.providers.azure.endpoint", ARM_SERVER::baseUrl);
        registry.add("atelier.providers.azure.poll-interval", () -> "PT0.1S");
        registry.add("atelier.test.ssh-gateway-port", () -> Integer.toString(GATEWAY_PORT));
        registry.add("atelier.ssh.gateway.bind-address", () -> "127.0.0.1");
    }

    @AfterAll
    static void stopFakes() {
        EC2_SERVER.stop();
        GCE_SERVER.stop();
        ARM_SERVER.stop();
    }

    @BeforeEach
    void thisEngineSeesOnlyItsOwnWorkspaces() {
        // Its own database: workspaces of the other integration tests' engine never show up here.
        List<String> names = new java.util.ArrayList<>();
        admin.get("/api/v1/workspaces?limit=100").json().path("workspaces").forEach(w -> names.add(w.path("name").asText()));
        assertThat(names).allMatch(n -> n.startsWith("ml-") || n.startsWith("quota-"));
    }

    @BeforeEach
    void resetFakes() {
        EC2_SERVER.resetAll();
        EC2.defaults();
        GCE_SERVER.resetAll();
        GCE.defaults();
        ARM_SERVER.resetAll();
        ARM.defaults();
    }

    @Test
    void anEc2WorkspaceIsCreatedStoppedStartedAndDeletedThroughTheApi() {
        String template = template("gpu-ec2", "aws-ec2", Map.of("region", "eu-west-1", "instanceType", "g5.xlarge",
                "imageId", Ec2Fake.IMAGE_ID, "diskGb", 200, "sshUser", "ubuntu", "sshPublicKey", KEY,
                "startupScript", "nvidia-smi > /var/log/gpu.txt\n"));
        String id = workspace("ml-ec2", template);
        EC2.forWorkspace(id);
        JsonNode running = admin.awaitStatus(id, "RUNNING");
        assertThat(running.at("/connection/sshHost").asText()).isEqualTo(Ec2Fake.PUBLIC_IP);
        JsonNode connection = admin.get("/api/v1/workspaces/" + id + "/connection").json();
        assertThat(connection.get("sshConfig").asText()).contains("HostName " + Ec2Fake.PUBLIC_IP).contains("User ubuntu");

        LoggedRequest run = EC2.requests("RunInstances").get(0);
        assertThat(EC2.requests("RunInstances")).hasSize(1);
        assertThat(Ec2Fake.form(run, "ClientToken")).isEqualTo(id + "-1");
        assertThat(Ec2Fake.form(run, "InstanceType")).isEqualTo("g5.xlarge");
        assertThat(Ec2Fake.form(run, "ImageId")).isEqualTo(Ec2Fake.IMAGE_ID);
        assertThat(run.getBodyAsString()).contains("Key=atelier-workspace-id").contains("Value=" + id)
                .contains("Key=atelier-build");
        assertThat(run.getHeader("Authorization")).contains("/eu-west-1/ec2/aws4_request");
        String userData = decode(Ec2Fake.form(run, "UserData"));
        assertThat(userData).contains("ATELIER_AGENT_TOKEN='atw_" + id + ".1.").contains("ATELIER_URL='http://127.0.0.1:")
                .contains("nvidia-smi");
        assertGatewayKeyOnly(userData, "ubuntu");

        EC2.instanceStates("running", "stopping", "stopped");
        transition(id, "stop", "STOPPED");
        assertThat(EC2.requests("StopInstances")).hasSize(1);
        EC2.instanceStates("stopped", "pending", "running");
        transition(id, "start", "RUNNING");
        assertThat(decode(Ec2Fake.form(EC2.requests("ModifyInstanceAttribute").get(0), "UserData.Value")))
                .contains("ATELIER_AGENT_TOKEN='atw_" + id + ".3.");
        assertThat(EC2.requests("StartInstances")).hasSize(1);
        EC2.instanceStates("running", "shutting-down", "terminated");
        transition(id, "delete", "DELETED");
        assertThat(Ec2Fake.form(EC2.requests("TerminateInstances").get(0), "InstanceId.1")).isEqualTo(Ec2Fake.INSTANCE_ID);
        assertThat(EC2.requests("RunInstances")).as("one VM for the whole life").hasSize(1);
        assertHistory(id);
    }

    @Test
    void aComputeEngineWorkspaceIsCreatedStoppedStartedAndDeletedThroughTheApi() throws Exception {
        String template = template("gpu-gce", "gcp-compute", Map.of("project", GceFake.PROJECT, "zone", GceFake.ZONE,
                "machineType", "g2-standard-8", "image", "projects/ubuntu-os-accelerator-images/global/images/family/"
                        + "ubuntu-accelerator-2204-amd64-with-nvidia-550", "sshPublicKey", KEY));
        String id = workspace("ml-gce", template);
        GCE.forWorkspace(id);
        JsonNode running = admin.awaitStatus(id, "RUNNING");
        assertThat(running.at("/connection/sshHost").asText()).isEqualTo(GceFake.PUBLIC_IP);

        List<LoggedRequest> inserts = GCE.requests(RequestMethod.POST, GceFake.BASE + "/instances");
        assertThat(inserts).hasSize(1);
        assertThat(inserts.get(0).queryParameter("requestId").firstValue())
                .isEqualTo(Idempotency.requestUuid(id + "-1", "insert").toString());
        JsonNode body = JSON.readTree(inserts.get(0).getBodyAsString());
        assertThat(body.path("name").asText()).isEqualTo("atelier-" + id);
        assertThat(body.path("machineType").asText()).isEqualTo("zones/europe-west4-a/machineTypes/g2-standard-8");
        assertThat(body.at("/labels/atelier-workspace-id").asText()).isEqualTo(id);
        assertThat(body.at("/scheduling/onHostMaintenance").asText()).isEqualTo("TERMINATE");
        assertThat(body.at("/metadata/items/0/value").asText()).contains("ATELIER_AGENT_TOKEN='atw_" + id + ".1.");
        assertGatewayKeyOnly(body.at("/metadata/items/0/value").asText(), "atelier");

        GCE.instanceStates("RUNNING", "TERMINATED");
        transition(id, "stop", "STOPPED");
        GCE.instanceStates("TERMINATED", "RUNNING");
        transition(id, "start", "RUNNING");
        JsonNode metadata = JSON.readTree(GCE.requests(RequestMethod.POST, GceFake.INSTANCE + "/setMetadata").get(0).getBodyAsString());
        assertThat(metadata.toString()).contains("atw_" + id + ".3.");
        assertThat(GCE.requests(RequestMethod.POST, GceFake.INSTANCE + "/start")).hasSize(1);
        transition(id, "delete", "DELETED");
        assertThat(GCE.requests(RequestMethod.DELETE, GceFake.INSTANCE)).hasSize(1);
        assertHistory(id);
    }

    @Test
    void anAzureWorkspaceIsCreatedStoppedStartedAndDeletedThroughTheApi() throws Exception {
        String template = template("gpu-azure", "azure-vm", Map.of("subscriptionId", ArmFake.SUBSCRIPTION,
                "resourceGroup", ArmFake.GROUP, "location", "westeurope", "vmSize", "Standard_NC4as_T4_v3",
                "image", "microsoft-dsvm:ubuntu-hpc:2204:latest", "subnetId", "/subscriptions/" + ArmFake.SUBSCRIPTION
                        + "/resourceGroups/atelier-network/providers/Microsoft.Network/virtualNetworks/atelier-vnet/subnets/workspaces",
                "sshUser", "alice", "sshPublicKey", KEY));
        String id = workspace("ml-azure", template);
        ARM.forWorkspace(id);
        JsonNode running = admin.awaitStatus(id, "RUNNING");
        assertThat(running.at("/connection/sshHost").asText()).isEqualTo(ArmFake.PUBLIC_IP);
        assertThat(running.at("/connection/sshUser").asText()).isEqualTo("alice");

        List<LoggedRequest> puts = ARM.requests(RequestMethod.PUT, ArmFake.VM);
        assertThat(puts).hasSize(1);
        assertThat(puts.get(0).getUrl()).startsWith(ArmFake.VMS + "/atelier-" + id + "?");
        JsonNode body = JSON.readTree(puts.get(0).getBodyAsString());
        assertThat(body.at("/properties/hardwareProfile/vmSize").asText()).isEqualTo("Standard_NC4as_T4_v3");
        assertThat(body.at("/tags/atelier-workspace-id").asText()).isEqualTo(id);
        assertThat(decode(body.at("/properties/osProfile/customData").asText())).contains("ATELIER_AGENT_TOKEN='atw_" + id + ".1.");
        assertGatewayKeyOnly(decode(body.at("/properties/osProfile/customData").asText()), "alice");

        ARM.vmStates("running", "deallocated");
        transition(id, "stop", "STOPPED");
        assertThat(ARM.requests(RequestMethod.POST, ArmFake.VM + "/deallocate")).hasSize(1);
        ARM.vmStates("deallocated", "running");
        transition(id, "start", "RUNNING");
        assertThat(ARM.requests(RequestMethod.PATCH, ArmFake.VM).get(0).getBodyAsString()).contains("userData");
        assertThat(ARM.requests(RequestMethod.POST, ArmFake.VM + "/start")).hasSize(1);
        transition(id, "delete", "DELETED");
        assertThat(ARM.requests(RequestMethod.DELETE, ArmFake.VM)).hasSize(1);
        assertHistory(id);
    }

    @Test
    void quotaErrorsOfEachCloudLeaveTheWorkspaceFailedWithTheCloudsMessage() {
        EC2.answer("RunInstances", Ec2Fake.error(400, "ec2/error-vcpu-limit-exceeded.xml"));
        GCE.operationAnswers("insert", GceFake.ok(GCE.quotaExceeded()));
        ARM.answers(() -> put(urlPathMatching(ArmFake.VM)), ARM.error(409, "arm/error-quota-exceeded.json"));

        String ec2 = workspace("quota-ec2", template("quota-ec2", "aws-ec2", Map.of("region", "eu-west-1",
                "instanceType", "p5.48xlarge", "imageId", Ec2Fake.IMAGE_ID)));
        String gce = workspace("quota-gce", template("quota-gce", "gcp-compute", Map.of("project", GceFake.PROJECT,
                "zone", GceFake.ZONE, "machineType", "g2-standard-8",
                "image", "projects/debian-cloud/global/images/family/debian-12")));
        String azure = workspace("quota-azure", template("quota-azure", "azure-vm", Map.of("subscriptionId",
                ArmFake.SUBSCRIPTION, "resourceGroup", ArmFake.GROUP, "location", "westeurope",
                "vmSize", "Standard_NC4as_T4_v3", "image", "Canonical:ubuntu-24_04-lts:server:latest",
                "subnetId", "/subscriptions/" + ArmFake.SUBSCRIPTION + "/resourceGroups/atelier-network/providers/"
                        + "Microsoft.Network/virtualNetworks/atelier-vnet/subnets/workspaces", "sshPublicKey", KEY)));

        assertFailed(ec2, "VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit of 0");
        assertFailed(gce, "QUOTA_EXCEEDED: Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region europe-west4.");
        assertFailed(azure, "OperationNotAllowed: Operation could not be completed as it results in exceeding approved "
                + "standardNCASv3_T4Family Cores quota");
        assertThat(EC2.requests("RunInstances")).as("a quota error is not retried").hasSize(1);
        assertThat(ARM.requests(RequestMethod.PUT, ArmFake.VM)).hasSize(1);
    }

    @Test
    void anInvalidCloudTemplateIsRefusedWhenPublishedWithTheKeyNamed() {
        ApiClient.Response refused = admin.post("/api/v1/templates", Map.of("name", "bad-ec2", "provider", "aws-ec2",
                "spec", Map.of("region", "eu-moon-1", "instanceType", "g5.xlarge", "imageId", "ubuntu"),
                "pricing", Map.of("runningPerHour", "1.00", "stoppedPerHour", "0.02", "currency", "EUR")));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().get("detail").asText()).contains("region 'eu-moon-1' is not a known AWS region")
                .contains("imageId 'ubuntu' is invalid");
        assertThat(EC2_SERVER.getAllServeEvents()).isEmpty();
    }

    /**
     * The SSH gateway's hop into a VM, end to end: the EC2 fake answers with an instance whose private address is the
     * test sshd's (on loopback), so the hop is real. What the VM's boot would do comes from the user data the SDK
     * really sent: the engine's gateway key line goes into the sshd user's authorized_keys, and the agent script runs
     * with the user data's token and host-key glob (pointed at the test sshd's host key). Until the agent has
     * reported, the gateway refuses with a clear message; then OpenSSH's client runs a command on the "VM", and the
     * report is in the audit trail. A user token cannot report host keys, and a second, different report is refused
     * and changes nothing.
     */
    @Test
    void anEc2WorkspaceIsReachedThroughTheSshGatewayCheckedAgainstTheHostKeysItsAgentReported(
            @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        TestInfra.SshHost sshd = TestInfra.sshd();
        ApiClient.Response user = admin.post("/api/v1/users", Map.of("id", "vm-gw", "name", "vm-gw",
                "roles", List.of("member")));
        assertThat(user.status()).as("%s", user).isIn(201, 409);
        ApiClient member = clientFor("vm-gw", "member");
        Path key = SshClient.newKey(tmp, "vm-gw");
        assertThat(member.post("/api/v1/users/me/keys", Map.of("name", "laptop", "publicKey",
                SshClient.publicKey(key))).status()).isEqualTo(201);
        EC2.privateIp("127.0.0.1");
        EC2.instanceStates("pending", "running");
        String template = template("vm-ssh", "aws-ec2", Map.of("region", "eu-west-1", "instanceType", "t3.large",
                "imageId", Ec2Fake.IMAGE_ID, "sshUser", sshd.user(), "sshPort", sshd.port()));
        ApiClient.Response created = member.post("/api/v1/workspaces", Map.of("name", "ml-vm", "templateId", template));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String id = created.json().get("id").asText();
        EC2.forWorkspace(id);
        JsonNode running = member.awaitStatus(id, "RUNNING");
        assertThat(running.at("/connection/sshPort").asText()).isEqualTo(Integer.toString(sshd.port()));
        assertThat(running.at("/connection/privateIp").asText()).isEqualTo("127.0.0.1");

        SshClient ssh = new SshClient(GATEWAY_PORT);
        SshClient.Result early = ssh.ssh(key, "ml-vm", null, List.of(), "echo too-early");
        assertThat(early.exit()).as("%s", early).isNotZero();
        assertThat(early.out()).doesNotContain("too-early");
        assertThat(early.err()).contains("host keys are not known yet");

        String userData = decode(Ec2Fake.form(EC2.requests("RunInstances").get(0), "UserData"));
        java.util.regex.Matcher gatewayLine = java.util.regex.Pattern.compile("k='(restrict,pty,port-forwarding "
                + "ssh-ed25519 [A-Za-z0-9+/=]+ atelier-gateway)'").matcher(userData);
        assertThat(gatewayLine.find()).as(userData).isTrue();
        assertThat(userData).contains("ATELIER_AGENT_HOST_KEYS='/etc/ssh/ssh_host_*_key.pub'");
        String token = single(userData, "ATELIER_AGENT_TOKEN='([^']+)'");
        String url = single(userData, "ATELIER_URL='([^']+)'");

        Path authorized = home(sshd.user()).resolve(".ssh/authorized_keys");
        String before = Files.readString(authorized);
        Path agentScript = tmp.resolve("atelier-agent");
        Files.writeString(agentScript, new String(getClass().getResourceAsStream("/agent/atelier-agent.sh")
                .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        Process agent = null;
        try {
            if (!before.lines().toList().contains(gatewayLine.group(1))) {
                Files.writeString(authorized, gatewayLine.group(1) + "\n", java.nio.file.StandardOpenOption.APPEND);
            }
            ProcessBuilder boot = new ProcessBuilder("sh", agentScript.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            boot.environment().putAll(Map.of("ATELIER_URL", url, "ATELIER_WORKSPACE_ID", id,
                    "ATELIER_AGENT_TOKEN", token, "ATELIER_HEARTBEAT_SECONDS", "1",
                    "ATELIER_AGENT_HOST_KEYS", sshd.keyDir().getParent().resolve("host_key.pub").toString()));
            agent = boot.start();

            await().atMost(Duration.ofSeconds(30)).until(() -> auditOf(id, "workspace-host-keys-reported").size() == 1);
            JsonNode reported = auditOf(id, "workspace-host-keys-reported").get(0);
            assertThat(reported.toString()).contains(sshd.fingerprint()).doesNotContain(token);

            SshClient.Result result = ssh.ssh(key, "ml-vm", null, List.of(), "echo hello from $(id -un); exit 3");
            assertThat(result.out()).as("%s", result).isEqualTo("hello from " + sshd.user() + "\n");
            assertThat(result.exit()).isEqualTo(3);
            Path upload = tmp.resolve("upload.txt");
            Files.writeString(upload, "copied to the VM by sftp\n");
            String remote = "atelier-vm-hop-" + id + ".txt";
            SshClient.Result sftp = ssh.sftp(key, "ml-vm", "put " + upload + " " + remote + "\nget " + remote + " "
                    + tmp.resolve("download.txt") + "\n");
            assertThat(sftp.exit()).as("%s", sftp).isZero();
            assertThat(Files.readString(tmp.resolve("download.txt"))).isEqualTo("copied to the VM by sftp\n");
            assertThat(ssh.ssh(key, "ml-vm", null, List.of(), "cat " + remote + " && rm " + remote).out())
                    .isEqualTo("copied to the VM by sftp\n");

            ApiClient.Response byUser = member.exchange("PUT", "/api/v1/workspaces/" + id + "/host-keys",
                    Map.of("keys", List.of(SshClient.publicKey(key))));
            assertThat(byUser.status()).as(byUser.body()).isEqualTo(403);
            ApiClient asAgent = new ApiClient("http://127.0.0.1:" + port, token);
            ApiClient.Response swapped = asAgent.exchange("PUT", "/api/v1/workspaces/" + id + "/host-keys",
                    Map.of("keys", List.of(SshClient.publicKey(key))));
            assertThat(swapped.status()).as(swapped.body()).isEqualTo(409);
            assertThat(swapped.body()).doesNotContain(SshClient.publicKey(key).split(" ")[1]);
            ApiClient.Response garbage = asAgent.exchange("PUT", "/api/v1/workspaces/" + id + "/host-keys",
                    Map.of("keys", List.of("ssh-ed25519 not;base64 $(reboot)")));
            assertThat(garbage.status()).as(garbage.body()).isEqualTo(400);
            assertThat(garbage.body()).contains("key 1 is not an OpenSSH public key line").doesNotContain("reboot");
            assertThat(auditOf(id, "workspace-host-keys-reported")).hasSize(1);
            assertThat(ssh.ssh(key, "ml-vm", null, List.of(), "echo still").out()).isEqualTo("still\n");
        } finally {
            if (agent != null) {
                agent.destroyForcibly().waitFor();
            }
            Files.writeString(authorized, before);
            EC2.instanceStates("running", "shutting-down", "terminated");
            transition(id, "delete", "DELETED");
        }
    }

    private List<JsonNode> auditOf(String workspaceId, String action) {
        List<JsonNode> found = new java.util.ArrayList<>();
        admin.get("/api/v1/audit?resourceId=" + workspaceId).json().path("entries").forEach(e -> {
            if (action.equals(e.path("action").asText())) {
                found.add(e);
            }
        });
        return found;
    }

    private static String single(String text, String regex) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as(regex).isTrue();
        return m.group(1);
    }

    private static Path home(String user) throws Exception {
        Process p = new ProcessBuilder("getent", "passwd", user).start();
        String entry = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        return Path.of(entry.split(":")[5]);
    }

    private static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String template(String name, String provider, Map<String, Object> spec) {
        ApiClient.Response created = admin.post("/api/v1/templates", Map.of("name", name, "provider", provider,
                "spec", spec, "pricing", Map.of("runningPerHour", "1.21", "stoppedPerHour", "0.02", "currency", "EUR")));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().get("id").asText();
    }

    private String workspace(String name, String templateId) {
        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", name, "templateId", templateId));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        return created.json().get("id").asText();
    }

    private void transition(String id, String action, String status) {
        ApiClient.Response accepted = action.equals("delete") ? admin.delete("/api/v1/workspaces/" + id)
                : admin.post("/api/v1/workspaces/" + id + "/" + action, null);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        long build = accepted.json().get("buildNumber").asLong();
        JsonNode after = admin.awaitStatus(id, status);
        assertThat(after.get("buildNumber").asLong()).isEqualTo(build);
    }

    private void assertFailed(String id, String message) {
        JsonNode failed = admin.awaitStatus(id, "FAILED");
        assertThat(failed.at("/lastTransition/error").asText()).contains(message);
        JsonNode history = admin.get("/api/v1/workspaces/" + id + "/history").json().get("events");
        assertThat(history).anySatisfy(e -> {
            assertThat(e.get("type").asText()).isEqualTo("TransitionFailed");
            assertThat(e.toString()).contains(message.substring(0, 30));
        });
    }

    private void assertHistory(String id) {
        JsonNode history = admin.get("/api/v1/workspaces/" + id + "/history").json().get("events");
        assertThat(history).extracting(e -> e.get("type").asText()).containsExactly("WorkspaceCreated",
                "TransitionStarted", "TransitionSucceeded", "TransitionStarted", "TransitionSucceeded",
                "TransitionStarted", "TransitionSucceeded", "TransitionStarted", "TransitionSucceeded");
    }

    /**
     * The user data the SDK really sent authorises the engine's gateway key for the workspace user, and carries no
     * private key (neither the PEM armour nor the file's base64 body).
     */
    private void assertGatewayKeyOnly(String userData, String user) {
        assertThat(userData).contains("u='" + user + "'; k='restrict,pty,port-forwarding " + gatewayKey.publicKey() + "'")
                .doesNotContain("PRIVATE KEY");
        try {
            String file = java.nio.file.Files.readString(gatewayKey.privateKeyFile());
            file.lines().filter(l -> !l.startsWith("-----")).forEach(l -> assertThat(userData).doesNotContain(l));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String decode(String base64) {
        return CloudFake.base64Text(base64);
    }
}
