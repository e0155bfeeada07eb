package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.time.Instant;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Keeps a running workspace from being stopped for idleness before {@code until} (bounded by max lifetime). */
public record ExtendWorkspaceCommand(
        @TargetAggregateIdentifier String workspaceId,
        Instant until,
        Actor actor) {
}
