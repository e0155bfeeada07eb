package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.util.Map;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Creates a workspace and starts its first build. A null template version means the active one. */
public record CreateWorkspaceCommand(
        @TargetAggregateIdentifier String workspaceId,
        String name,
        String owner,
        String team,
        WorkspaceKind kind,
        String templateId,
        Integer templateVersion,
        Map<String, String> parameters,
        Map<String, String> labels,
        PolicyOverrides policy,
        TransitionReason reason,
        Actor actor) {
}
