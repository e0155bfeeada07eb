package dev.atelier.domain.workspace;

import dev.atelier.domain.template.LifecyclePolicy;

import java.time.Duration;

/**
 * Lifecycle policy of workspaces whose template leaves a field unset, per kind (agent workspaces get short
 * ones), and how long before an idle stop the warning goes out.
 */
public record PolicyDefaults(LifecyclePolicy human, LifecyclePolicy agent, Duration idleWarning) {

    public static final PolicyDefaults NONE = new PolicyDefaults(LifecyclePolicy.NONE, LifecyclePolicy.NONE, Duration.ZERO);

    LifecyclePolicy forKind(WorkspaceKind kind) {
        return kind == WorkspaceKind.AGENT ? agent : human;
    }
}
