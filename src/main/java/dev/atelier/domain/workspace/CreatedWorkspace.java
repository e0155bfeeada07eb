package dev.atelier.domain.workspace;

import java.util.Map;

/**
 * The answer to {@link CreateWorkspaceCommand}: what the Workspace aggregate decided (the kind when none was asked
 * for, the template version it resolved, the first build), so that the API returns it rather than guessing.
 *
 * @param status      {@code PENDING}: the status a workspace is created in; its first build, a start, is already
 *                    under way when the answer arrives (the workspace's view shows {@code STARTING} next)
 * @param buildNumber the build that carries out the first start
 */
public record CreatedWorkspace(
        String id,
        String name,
        String owner,
        String team,
        WorkspaceKind kind,
        String templateId,
        int templateVersion,
        WorkspaceStatus status,
        long buildNumber,
        Map<String, String> labels) {
}
