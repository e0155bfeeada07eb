package dev.atelier.api;

import dev.atelier.projections.workspaces.WorkspaceView;

import java.util.LinkedHashMap;
import java.util.Map;

/** How to reach a running workspace, including an ssh_config snippet when the provider exposes SSH. */
final class Connections {

    private Connections() {
    }

    static Map<String, Object> describe(WorkspaceView view) {
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
        return out;
    }
}
