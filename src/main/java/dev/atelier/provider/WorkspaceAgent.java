package dev.atelier.provider;

import java.util.Map;
import java.util.TreeMap;

import static dev.atelier.provider.ShellQuoting.quote;

/**
 * The small program every workspace runs besides its start-up script: it reports activity (open SSH/IDE
 * connections) to the engine so that idle workspaces can be stopped. Providers deliver it the way their platform
 * starts things: an entrypoint wrapper for containers, cloud-init user data for VMs, a background process for
 * local and SSH workspaces.
 *
 * @param script      the agent, a POSIX shell script (needs only {@code sh} and {@code curl})
 * @param environment what the agent needs: {@code ATELIER_URL}, {@code ATELIER_WORKSPACE_ID},
 *                    {@code ATELIER_AGENT_TOKEN} (a secret: providers must not log it), {@code ATELIER_HEARTBEAT_SECONDS}
 * @param gatewayKey  the public key line of the engine's {@link WorkspaceKey}, which the workspace's SSH server must
 *                    accept for the workspace user so that the SSH gateway can reach ssh and VM workspaces; null when
 *                    the engine has none (tests)
 */
public record WorkspaceAgent(String script, Map<String, String> environment, String gatewayKey) {

    public WorkspaceAgent {
        environment = Map.copyOf(environment);
    }

    public WorkspaceAgent(String script, Map<String, String> environment) {
        this(script, environment, null);
    }

    /**
     * A shell snippet that installs the agent at {@code path} and starts it in the background with its
     * environment; values are single-quoted, so nothing in them is interpreted by the shell.
     */
    public String bootstrap(String path) {
        return bootstrap(path, Map.of());
    }

    private String bootstrap(String path, Map<String, String> more) {
        StringBuilder sh = new StringBuilder();
        sh.append("mkdir -p \"$(dirname ").append(quote(path)).append(")\"\n");
        sh.append("cat > ").append(quote(path)).append(" <<'ATELIER_AGENT_EOF'\n").append(script);
        if (!script.endsWith("\n")) {
            sh.append('\n');
        }
        sh.append("ATELIER_AGENT_EOF\n");
        sh.append("chmod 755 ").append(quote(path)).append('\n');
        sh.append("( ");
        Map<String, String> env = new TreeMap<>(environment);
        env.putAll(more);
        env.forEach((k, v) -> sh.append(k).append('=').append(quote(v)).append(' '));
        sh.append("nohup sh ").append(quote(path)).append(" >/dev/null 2>&1 & )\n");
        return sh.toString();
    }

    /** Cloud-init user data (a shell script) that starts the agent, then runs the template's start-up script. */
    public String cloudInitUserData(String startupScript) {
        StringBuilder sh = new StringBuilder("#!/bin/sh\n# Written by Atelier: workspace agent, then the template's start-up script.\n");
        // A VM's sshd is reached by the SSH gateway's hop, which trusts only the host keys the agent reports.
        sh.append(bootstrap("/usr/local/bin/atelier-agent", Map.of("ATELIER_AGENT_HOST_KEYS", VM_HOST_KEYS)));
        if (startupScript != null && !startupScript.isBlank()) {
            sh.append("cat > /var/lib/atelier-startup.sh <<'ATELIER_STARTUP_EOF'\n").append(startupScript);
            if (!startupScript.endsWith("\n")) {
                sh.append('\n');
            }
            sh.append("ATELIER_STARTUP_EOF\n").append("sh /var/lib/atelier-startup.sh\n");
        }
        return sh.toString();
    }

    /** Where cloud images keep the sshd host keys that cloud-init makes on the first boot. */
    static final String VM_HOST_KEYS = "/etc/ssh/ssh_host_*_key.pub";

    @Override
    public String toString() {
        // The token is a secret: keep it out of logs and exception messages.
        return "WorkspaceAgent[environment=" + environment.keySet() + "]";
    }
}
