package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.util.Map;
import org.axonframework.serialization.Revision;

@Revision("1")
public record WorkspaceCreatedEvent(String workspaceId, String name, String owner, String team, WorkspaceKind kind, String templateId, int templateVersion, String provider, Map<String, String> parameters, Map<String, String> labels, Actor actor) {
}
