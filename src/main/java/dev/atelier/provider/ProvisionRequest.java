package dev.atelier.provider;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

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

    /**
     * What a workspace's processes see of the workspace on every provider, in this order: {@code ATELIER_WORKSPACE_ID},
     * {@code ATELIER_BUILD}, {@code ATELIER_WORKSPACE_OWNER} (when known) and {@code ATELIER_PARAM_<NAME>} for each
     * parameter, by name. A new map: a provider adds its own variables and the template's {@code env}.
     */
    public Map<String, String> workspaceEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ATELIER_WORKSPACE_ID", workspaceId);
        env.put("ATELIER_BUILD", Long.toString(buildNumber));
        if (owner != null) {
            env.put("ATELIER_WORKSPACE_OWNER", owner);
        }
        // Parameter names are letters, digits and '_' (the template's rules); anything else could not be a name.
        new TreeMap<>(parameters).forEach((k, v) -> env.put("ATELIER_PARAM_"
                + k.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_]", "_"), v));
        return env;
    }
}
