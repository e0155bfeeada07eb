package dev.atelier.domain.workspace;

import java.util.Map;
import org.axonframework.serialization.Revision;

/**
 * The provider finished a transition. {@code forced} marks a delete that removed the record although the provider
 * reported {@code providerError}: the resource may still exist.
 */
@Revision("1")
public record WorkspaceTransitionSucceededEvent(
        String workspaceId,
        long buildNumber,
        Transition transition,
        String resourceId,
        Map<String, String> connection,
        boolean forced,
        String providerError) {
}
