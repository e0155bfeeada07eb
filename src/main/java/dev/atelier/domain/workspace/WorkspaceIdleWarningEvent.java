package dev.atelier.domain.workspace;

import java.time.Instant;
import org.axonframework.serialization.Revision;

/** Nobody used the workspace for a while: it will be stopped for idleness at {@code stopAt} unless used. */
@Revision("1")
public record WorkspaceIdleWarningEvent(
        String workspaceId,
        long buildNumber,
        Instant stopAt,
        Instant idleSince) {
}
