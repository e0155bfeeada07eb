package dev.atelier.provider;

import java.util.Map;

/**
 * One call to a provider for one build of a workspace. {@code resourceId} is null until the provider has
 * created something; {@code agent} is set for create and start, which must launch it with the workspace.
 */
public record ProvisionRequest(String workspaceId, long buildNumber, String owner, String resourceId,
                               Map<String, Object> spec, Map<String, String> parameters,
                               Map<String, String> labels, WorkspaceAgent agent) {

    public ProvisionRequest {
        spec = spec == null ? Map.of() : spec;
        parameters = parameters == null ? Map.of() : parameters;
        labels = labels == null ? Map.of() : labels;
    }

    /** The same for every retry of this build, different for the next build. */
    public String idempotencyKey() {
        return workspaceId + "-" + buildNumber;
    }
}
