package dev.atelier.domain.workspace;

import java.time.Instant;
import org.axonframework.serialization.Revision;

/** Stopped and unused for the template's dormancy period; {@code deleteAt} is null when it is never deleted. */
@Revision("1")
public record WorkspaceMarkedDormantEvent(
        String workspaceId,
        long buildNumber,
        Instant stoppedSince,
        Instant deleteAt) {
}
