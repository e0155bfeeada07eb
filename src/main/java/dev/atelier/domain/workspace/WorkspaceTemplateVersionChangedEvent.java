package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.util.Map;
import org.axonframework.serialization.Revision;

/** The workspace will run the new template version from its next start. */
@Revision("1")
public record WorkspaceTemplateVersionChangedEvent(
        String workspaceId,
        String templateId,
        int fromVersion,
        int toVersion,
        Map<String, String> parameters,
        Actor actor) {
}
