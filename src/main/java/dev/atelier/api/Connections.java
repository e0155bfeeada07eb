package dev.atelier.api;

import dev.atelier.gateway.SshGateway;
import dev.atelier.projections.workspaces.WorkspaceView;
import org.springframework.web.server.ServerWebExchange;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How to reach a running workspace: what the provider reports, an ssh_config snippet when the provider exposes SSH
 * itself, and (with the SSH gateway on) an {@code ssh} block through the gateway with its ssh_config snippet and the
 * IDE links (VS Code Remote-SSH, JetBrains Gateway), all naming the workspace as {@code <owner>.<name>}.
 */
final class Connections {

    /** A host name or address as it may appear in a link and an ssh_config line. */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:\\[\\]-]{1,253}");

    private Connections() {
    }

    static Map<String, Object> describe(WorkspaceView view) {
        return describe(view, null, null);
    }

    static Map<String, Object> describe(WorkspaceView view, SshGateway gateway, ServerWebExchange exchange) {
        Map<String, String> c = view.connection();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("workspaceId", view.id());
        out.put("provider", view.provider());
        out.putAll(c);
        String host = c.get("sshHost");
        if (host != null) {
            String alias = "atelier-" + view.name();
            StringBuilder config = new StringBuilder("Host ").append(alias).append('\n')
                    .append("  HostName ").append(host).append('\n');
            if (c.containsKey("sshPort")) {
                config.append("  Port ").append(c.get("sshPort")).append('\n');
            }
            if (c.containsKey("sshUser")) {
                config.append("  User ").append(c.get("sshUser")).append('\n');
            }
            out.put("sshConfig", config.toString());
            out.put("ideUrl", "vscode://vscode-remote/ssh-remote+" + alias + "/");
        }
        if (gateway != null && gateway.isRunning()) {
            out.put("ssh", gateway(view, gateway, gatewayHost(gateway, exchange)));
        }
        return out;
    }

    private static Map<String, Object> gateway(WorkspaceView view, SshGateway gateway, String host) {
        String user = view.owner() + "." + view.name();
        String alias = "atelier." + view.name();
        int port = gateway.port();
        String path = "local".equals(view.provider()) ? "/workspace" : "/";
        Map<String, Object> ssh = new LinkedHashMap<>();
        ssh.put("host", host);
        ssh.put("port", port);
        ssh.put("user", user);
        ssh.put("command", "ssh -p " + port + " " + user + "@" + host);
        ssh.put("hostKeys", gateway.hostKeys().stream().map(SshGateway.HostKey::fingerprint).toList());
        ssh.put("sshConfig", "Host " + alias + "\n  HostName " + host + "\n  Port " + port + "\n  User " + user + "\n");
        ssh.put("vscode", "vscode://vscode-remote/ssh-remote+" + alias + path);
        ssh.put("jetbrains", "jetbrains-gateway://connect#type=ssh&deploy=false&host=" + encode(host) + "&port=" + port
                + "&user=" + encode(user) + "&projectPath=" + encode(path));
        return ssh;
    }

    /** The gateway's host for clients: the configured public host, else the host the API was reached by. */
    static String gatewayHost(SshGateway gateway, ServerWebExchange exchange) {
        String configured = gateway.publicHost().orElse(null);
        if (configured != null) {
            return configured;
        }
        String requested = exchange == null ? null : exchange.getRequest().getURI().getHost();
        return requested != null && HOST.matcher(requested).matches() ? requested : "localhost";
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
