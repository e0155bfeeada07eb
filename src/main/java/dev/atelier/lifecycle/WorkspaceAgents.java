package dev.atelier.lifecycle;

import dev.atelier.provider.WorkspaceAgent;
import dev.atelier.provider.WorkspaceKey;
import dev.atelier.security.AgentTokens;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ClassPathResource;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** Builds the agent a workspace runs for one build: the script and the environment with its build-bound token. */
@Component
public class WorkspaceAgents {

    private final AgentTokens tokens;
    private final Settings settings;
    private final Environment environment;
    private final String script;
    private final WorkspaceKey gatewayKey;

    public WorkspaceAgents(AgentTokens tokens, Settings settings, Environment environment, WorkspaceKey gatewayKey) {
        this.tokens = tokens;
        this.gatewayKey = gatewayKey;
        this.settings = settings;
        this.environment = environment;
        try {
            this.script = new ClassPathResource("agent/atelier-agent.sh").getContentAsString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("the workspace agent script is missing from the build", e);
        }
    }

    public WorkspaceAgent forBuild(String workspaceId, long buildNumber) {
        return new WorkspaceAgent(script, Map.of(
                "ATELIER_URL", engineUrl(),
                "ATELIER_WORKSPACE_ID", workspaceId,
                "ATELIER_AGENT_TOKEN", tokens.issue(workspaceId, buildNumber),
                "ATELIER_HEARTBEAT_SECONDS", Long.toString(Math.max(1, settings.heartbeat().toSeconds())),
                "ATELIER_AGENT_PORTS", settings.ports()), gatewayKey == null ? null : gatewayKey.publicKey());
    }

    private String engineUrl() {
        if (settings.url() != null && !settings.url().isBlank()) {
            return settings.url();
        }
        String port = environment.getProperty("local.server.port", environment.getProperty("server.port", "8080"));
        return "http://127.0.0.1:" + port;
    }

    /**
     * {@code atelier.agent.*}.
     *
     * @param url       how workspaces reach the engine; default {@code http://127.0.0.1:<port>}, right for local
     *                  workspaces only: set it to the engine's address as seen from containers and VMs
     * @param heartbeat how often the agent reports
     * @param ports     connections the agent counts, as space-separated {@code source:port} pairs; checked at
     *                  start-up, because the agent sends them all in one heartbeat and the engine refuses a
     *                  heartbeat with a malformed source as a whole (the workspace would look unused)
     */
    @ConfigurationProperties("atelier.agent")
    public record Settings(String url, @DefaultValue("PT30S") Duration heartbeat, @DefaultValue("ssh:22") String ports) {

        /** One less than a heartbeat's limit of sources: the agent adds {@code agent} itself. */
        static final int MAX_PORTS = 15;
        private static final java.util.regex.Pattern PAIR =
                java.util.regex.Pattern.compile("([a-z][a-z0-9-]{0,31}):([0-9]{1,5})");

        public Settings {
            String[] pairs = ports == null ? new String[0] : ports.trim().split("\\s+");
            if (pairs.length == 0 || pairs[0].isEmpty() || pairs.length > MAX_PORTS) {
                throw new IllegalArgumentException("atelier.agent.ports needs 1 to " + MAX_PORTS
                        + " space-separated source:port pairs (e.g. 'ssh:22 web:8080'), was '" + ports + "'");
            }
            java.util.Set<String> sources = new java.util.HashSet<>();
            for (String pair : pairs) {
                var m = PAIR.matcher(pair);
                if (!m.matches() || Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65_535) {
                    throw new IllegalArgumentException("atelier.agent.ports: '" + pair + "' is not source:port (a "
                            + "lower-case name of letters, digits and '-', and a port 1-65535)");
                }
                if (m.group(1).equals("agent") || !sources.add(m.group(1))) {
                    throw new IllegalArgumentException("atelier.agent.ports: source '" + m.group(1) + "' is "
                            + (m.group(1).equals("agent") ? "reserved for the agent's own heartbeat" : "given twice"));
                }
            }
        }
    }
}
