package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.util.Map;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Moves the workspace to another template version (null: the active one); applied on the next start. */
public record UpdateWorkspaceCommand(
        @TargetAggregateIdentifier String workspaceId,
        Integer templateVersion,
        Map<String, String> parameters,
        Actor actor) {
}
