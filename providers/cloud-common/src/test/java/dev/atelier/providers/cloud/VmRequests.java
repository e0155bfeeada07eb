package dev.atelier.providers.cloud;

import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;

import java.util.HashMap;
import java.util.Map;

/** Provision requests as the engine's saga builds them, with a workspace agent whose token is per build. */
public final class VmRequests {

    public static final String AGENT_SCRIPT = "#!/bin/sh\n# Atelier workspace agent (test copy)\nwhile :; do sleep 30; done\n";
    /** The workspace of the provider tests. */
    public static final String WORKSPACE_ID = "0f8e2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6";
    /** A template author's SSH public key. */
    public static final String SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx1Vt0mQ3cQpWq4l0a4l6n0d1t8Tq0r9vJm7v3kX2aB "
            + "alice@laptop";
    /** The start-up script of the GPU templates of the provider tests. */
    public static final String GPU_STARTUP_SCRIPT = "nvidia-smi > /var/log/gpu.txt\n";

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

    /** The same request, with the resource the engine recorded meanwhile (as the saga's next call carries it). */
    public static ProvisionRequest withResource(ProvisionRequest r, String resourceId) {
        return new ProvisionRequest(r.workspaceId(), r.buildNumber(), r.owner(), resourceId, r.spec(), r.parameters(),
                r.labels(), r.agent());
    }

    /**
     * A GPU workspace's spec: the cloud's own keys, and what every VM template has (an SSH user and key, a start-up
     * script); modifiable, so that a test can add or remove keys.
     */
    public static Map<String, Object> gpuSpec(String sshUser, Map<String, Object> cloudKeys) {
        Map<String, Object> spec = new HashMap<>(cloudKeys);
        spec.put("sshUser", sshUser);
        spec.put("sshPublicKey", SSH_KEY);
        spec.put("startupScript", GPU_STARTUP_SCRIPT);
        return spec;
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
