package dev.atelier.providers.ssh;

import dev.atelier.provider.WorkspaceKey;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;

import java.time.Duration;

/**
 * The one {@link SshShells} of the engine: the SSH gateway's hop into workspaces that run their own sshd (ssh hosts
 * and cloud VMs), shared by the providers that use it so that they keep one client and one session per server.
 * Not a scanned configuration: imported by the configurations of those providers, so it exists only when one of them
 * is enabled.
 */
public class SshHopConfiguration {

    @Bean(destroyMethod = "close")
    SshShells sshShells(WorkspaceKey gatewayKey,
                        @Value("${atelier.providers.ssh.connect-timeout:PT10S}") Duration connectTimeout) {
        return new SshShells(gatewayKey, connectTimeout);
    }
}
