package dev.atelier.domain.workspace;

import org.axonframework.serialization.Revision;

/**
 * The engine's record followed reality: the workspace's resource was found stopped ({@code to} STOPPED) or gone
 * ({@code to} FAILED) outside Atelier. The reason is always {@link TransitionReason#SYSTEM}.
 */
@Revision("1")
public record WorkspaceDriftedEvent(String workspaceId,
                                    long buildNumber,
                                    WorkspaceStatus from,
                                    WorkspaceStatus to,
                                    DriftFinding found,
                                    TransitionReason reason,
                                    String detail) {
}
