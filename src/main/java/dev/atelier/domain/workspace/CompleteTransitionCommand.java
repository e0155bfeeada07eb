package dev.atelier.domain.workspace;

import java.util.Map;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Sent by the lifecycle saga when the provider finished; {@code providerError} only for a forced delete. */
public record CompleteTransitionCommand(
        @TargetAggregateIdentifier String workspaceId,
        long buildNumber,
        String resourceId,
        Map<String, String> connection,
        String providerError) {
}
