package dev.atelier.providers.cloud;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmUserDataTest {

    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx1Vt0mQ3cQpWq4l0a4l6n0d1t8Tq0r9vJm7v3kX2aB alice@laptop";

    @Test
    void userDataInstallsTheBootHookThenTheSshKeyThenTheAgentThenTheStartUpScriptWithTheWorkspaceEnvironment() {
        ProvisionRequest request = VmRequests.starting("ws-1", 3, null, Map.of());
        String data = VmUserData.build(request, "echo ready > /tmp/ready\n", "curl -sf http://metadata/user-data",
                "ubuntu", KEY);

        assertThat(data).startsWith("#!/bin/sh\n");
        assertThat(data.indexOf(VmUserData.BOOT_HOOK)).isLessThan(data.indexOf(KEY));
        assertThat(data.indexOf(KEY)).isLessThan(data.indexOf(VmRequests.AGENT_SCRIPT.strip().split("\n")[1]));
        assertThat(data).contains("curl -sf http://metadata/user-data")
                .contains("ATELIER_AGENT_TOKEN='" + VmRequests.token("ws-1", 3) + "'")
                .contains("export ATELIER_WORKSPACE_ID='ws-1'")
                .contains("export ATELIER_BUILD='3'")
                .contains("export ATELIER_PARAM_PROJECT='atlas'")
                .contains("echo ready > /tmp/ready");
        assertThat(data.indexOf("ATELIER_AGENT_TOKEN")).isLessThan(data.indexOf("echo ready"));
    }

    @Test
    void theUserDataIsAValidShellScript() throws Exception {
        String data = VmUserData.build(VmRequests.starting("ws-1", 1, null, Map.of()), "echo 'it''s' \"$HOME\"\n",
                "echo", "ubuntu", KEY);
        Path file = Files.createTempFile("user-data", ".sh");
        try {
            Files.writeString(file, data, StandardCharsets.UTF_8);
            Process check = new ProcessBuilder("sh", "-n", file.toString()).redirectErrorStream(true).start();
            assertThat(check.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(check.exitValue()).as(new String(check.getInputStream().readAllBytes())).isZero();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void parameterValuesCannotBreakOutOfTheScriptAndScriptsCannotEndItsHereDocuments() {
        ProvisionRequest injected = new ProvisionRequest("ws-1", 1, "alice", null, Map.of(),
                Map.of("name", "x'\nATELIER_STARTUP_EOF\nrm -rf /"), Map.of(), VmRequests.agent("ws-1", 1));
        assertThatThrownBy(() -> VmUserData.build(injected, "echo hi", "echo", null, null))
                .isInstanceOf(ProviderException.class).hasMessageContaining("parameter name contains a line break");
        ProvisionRequest quoted = new ProvisionRequest("ws-1", 1, "alice", null, Map.of(),
                Map.of("name", "it's $(reboot)"), Map.of(), VmRequests.agent("ws-1", 1));
        assertThat(VmUserData.build(quoted, "echo hi", "echo", null, null))
                .contains("export ATELIER_PARAM_NAME='it'\"'\"'s $(reboot)'");
        assertThat(VmUserData.scriptProblem("echo a\nATELIER_STARTUP_EOF\necho b")).contains("ATELIER_STARTUP_EOF");
        assertThat(VmUserData.scriptProblem("echo ATELIER_STARTUP_EOF")).isNull();
    }

    @Test
    void namesAndRequestIdsAreStableForTheSameKeyAndDifferForOthers() {
        assertThat(Idempotency.requestUuid("ws-1-1", "insert")).isEqualTo(Idempotency.requestUuid("ws-1-1", "insert"))
                .isNotEqualTo(Idempotency.requestUuid("ws-1-2", "insert"))
                .isNotEqualTo(Idempotency.requestUuid("ws-1-1", "start"));
        assertThat(Idempotency.vmName("0f8e2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6", 63))
                .isEqualTo("atelier-0f8e2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6");
        assertThat(Idempotency.vmName("Not_Valid!", 63)).matches("atelier-[0-9a-f]{32}");
        assertThat(Idempotency.token("x".repeat(80), 64)).hasSize(64);
    }

    @Test
    void theEnginesGatewayKeyIsAuthorisedForTheWorkspaceUserLimitedToTerminalsAndForwarding() {
        String gateway = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGatewayKeyGatewayKeyGatewayKeyGatewayKey0 atelier-gateway";
        ProvisionRequest request = withGatewayKey(VmRequests.starting("ws-1", 1, null, Map.of()), gateway);

        String data = VmUserData.build(request, "echo hi\n", "echo", "ubuntu", null, null);
        assertThat(data).contains("u='ubuntu'; k='restrict,pty,port-forwarding " + gateway + "'")
                .contains("\"$h/.ssh/authorized_keys\"").doesNotContain("PRIVATE KEY");
        assertThat(data.indexOf(gateway)).as("before the agent and the start-up script")
                .isLessThan(data.indexOf("ATELIER_AGENT_TOKEN"));
        assertThat(VmUserData.build(request, "echo hi\n", "echo", null, null, null)).as("no workspace user: no key")
                .doesNotContain(gateway);
        assertThat(VmUserData.build(VmRequests.starting("ws-1", 1, null, Map.of()), "echo hi\n", "echo", "ubuntu",
                null, null)).as("an engine without a gateway key").doesNotContain("atelier-gateway");

        ProvisionRequest injected = withGatewayKey(request, gateway + "'; touch /pwned; '");
        assertThatThrownBy(() -> VmUserData.build(injected, "echo hi", "echo", "ubuntu", null, null))
                .isInstanceOf(ProviderException.class).hasMessage("the engine's gateway key is invalid");
    }

    private static ProvisionRequest withGatewayKey(ProvisionRequest r, String key) {
        return new ProvisionRequest(r.workspaceId(), r.buildNumber(), r.owner(), r.resourceId(), r.spec(), r.parameters(),
                r.labels(), new WorkspaceAgent(r.agent().script(), r.agent().environment(), key));
    }
}
