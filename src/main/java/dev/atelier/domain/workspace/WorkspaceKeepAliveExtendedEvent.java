package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.time.Instant;
import org.axonframework.serialization.Revision;

@Revision("1")
public record WorkspaceKeepAliveExtendedEvent(
        String workspaceId,
        long buildNumber,
        Instant until,
        Actor actor) {
}
