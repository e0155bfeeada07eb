package dev.atelier.gateway;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The SSH gateway (docs/ssh.md).
 *
 * @param port          where it listens ({@code ATELIER_SSH_GATEWAY_PORT}); 0 turns the gateway off
 * @param bindAddress   the address it listens on
 * @param hostKey       the host key file; generated on first start when missing (default
 *                      {@code <data dir>/ssh/gateway-host-key}), so clients see the same key after a restart
 * @param workspaceKey  the engine's key for the hop into ssh and VM workspaces (an unencrypted OpenSSH ed25519
 *                      private key); generated on first start when missing (default
 *                      {@code <data dir>/ssh/gateway-workspace-key}); workspaces authorise its public key
 * @param publicHost    the host name clients use in connection info and ssh_config snippets (default: the host of
 *                      the API request that asks for them)
 * @param heartbeat     how often open sessions are reported as activity (keep it well below
 *                      {@code atelier.idle.stale-after})
 * @param stateCheck    how often the workspaces of open sessions are checked: a workspace that left RUNNING has its
 *                      sessions closed
 */
@ConfigurationProperties("atelier.ssh.gateway")
public record GatewaySettings(@DefaultValue("2222") int port,
                              @DefaultValue("0.0.0.0") String bindAddress,
                              Path hostKey,
                              Path workspaceKey,
                              String publicHost,
                              @DefaultValue("PT15S") Duration heartbeat,
                              @DefaultValue("PT1S") Duration stateCheck) {

    public boolean enabled() {
        return port > 0;
    }
}
