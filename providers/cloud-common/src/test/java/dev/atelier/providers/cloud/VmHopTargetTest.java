package dev.atelier.providers.cloud;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.WorkspaceShell;
import dev.atelier.providers.ssh.SshShells;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Where the SSH gateway's hop finds a VM's sshd: read back from the connection info the provider gave (and the
 * engine stored), so each value is checked again before it reaches the SSH client.
 */
class VmHopTargetTest {

    private static final List<String> KEYS = List.of("SHA256:" + "A".repeat(42) + "E");

    @Test
    void theVmsPrivateAddressComesFirstForTheEngineRunsInsideTheNetwork() {
        Map<String, String> connection = VmConnection.ssh("54.171.22.190", "10.20.1.37", "ubuntu", 2200);
        SshShells.Target target = VmWorkspaceProvider.hopTarget(new WorkspaceShell.Target("ws-1", connection, KEYS));
        assertThat(target).isEqualTo(new SshShells.Target("10.20.1.37", 2200, "ubuntu", KEYS));
    }

    @Test
    void aVmWithOnlyAPublicAddressIsReachedThereOnPort22ByDefault() {
        Map<String, String> connection = VmConnection.ssh("54.171.22.190", null, "ec2-user", VmConnection.DEFAULT_SSH_PORT);
        assertThat(VmWorkspaceProvider.hopTarget(new WorkspaceShell.Target("ws-1", connection, KEYS)))
                .isEqualTo(new SshShells.Target("54.171.22.190", 22, "ec2-user", KEYS));
    }

    @Test
    void withoutReportedHostKeysTheClientIsToldToTryAgainShortly() {
        Map<String, String> connection = VmConnection.ssh(null, "10.20.1.37", "ubuntu", 22);
        assertThatThrownBy(() -> VmWorkspaceProvider.hopTarget(new WorkspaceShell.Target("ws-1", connection, List.of())))
                .isInstanceOf(ProviderException.class).hasMessageContaining("host keys are not known yet")
                .hasMessageContaining("try again");
    }

    @Test
    void aVmWithoutAnAddressOrWithValuesThatAreNotAddressPortAndUserIsRefused() {
        assertThatThrownBy(() -> VmWorkspaceProvider.hopTarget(new WorkspaceShell.Target("ws-1",
                VmConnection.ssh(null, null, "ubuntu", 22), KEYS)))
                .isInstanceOf(ProviderException.class).hasMessageContaining("has no address");
        assertThatThrownBy(() -> VmWorkspaceProvider.hopTarget(new WorkspaceShell.Target("ws-1",
                Map.of("privateIp", "10.0.0.1 -oProxyCommand=x", "sshPort", "22", "sshUser", "u"), KEYS)))
                .isInstanceOf(ProviderException.class).hasMessageContaining("has no address")
                .hasMessageNotContaining("ProxyCommand");
        assertThatThrownBy(() -> VmWorkspaceProvider.hopTarget(new WorkspaceShell.Target("ws-1",
                Map.of("privateIp", "10.0.0.1", "sshPort", "99999", "sshUser", "u"), KEYS)))
                .isInstanceOf(ProviderException.class).hasMessageContaining("no valid SSH port and user");
        assertThatThrownBy(() -> VmWorkspaceProvider.hopTarget(new WorkspaceShell.Target("ws-1",
                Map.of("privateIp", "10.0.0.1", "sshPort", "22", "sshUser", "root;id"), KEYS)))
                .isInstanceOf(ProviderException.class).hasMessageContaining("no valid SSH port and user");
    }
}
