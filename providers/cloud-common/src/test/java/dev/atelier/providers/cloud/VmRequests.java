package dev.atelier.providers.cloud;

import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;

import java.util.Map;

/** Provision requests as the engine's saga builds them, with a workspace agent whose token is per build. */
public final class VmRequests {

    public static final String AGENT_SCRIPT = "#!/bin/sh\n# Atelier workspace agent (test copy)\nwhile :; do sleep 30; done\n";

    private VmRequests() {
    }

    public static ProvisionRequest starting(String workspaceId, long build, String resourceId, Map<String, Object> spec) {
        return new ProvisionRequest(workspaceId, build, "alice", resourceId, spec, Map.of("project", "atlas"),
                labels(workspaceId, build), agent(workspaceId, build));
    }

    public static ProvisionRequest other(String workspaceId, long build, String resourceId, Map<String, Object> spec) {
        return new ProvisionRequest(workspaceId, build, "alice", resourceId, spec, Map.of("project", "atlas"),
                labels(workspaceId, build), null);
    }

    public static Map<String, String> labels(String workspaceId, long build) {
        return Map.of("atelier-workspace-id", workspaceId, "atelier-build", Long.toString(build));
    }

    public static WorkspaceAgent agent(String workspaceId, long build) {
        return new WorkspaceAgent(AGENT_SCRIPT, Map.of("ATELIER_URL", "https://atelier.example.com",
                "ATELIER_WORKSPACE_ID", workspaceId, "ATELIER_AGENT_TOKEN", token(workspaceId, build),
                "ATELIER_HEARTBEAT_SECONDS", "30", "ATELIER_AGENT_PORTS", "ssh:22"));
    }

    public static String token(String workspaceId, long build) {
        return "atw_" + workspaceId + "." + build + ".test-signature-of-build-" + build;
    }
}
