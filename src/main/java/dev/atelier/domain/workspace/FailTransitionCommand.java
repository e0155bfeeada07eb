package dev.atelier.domain.workspace;

import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Sent by the lifecycle saga when the provider failed or the transition timed out. */
public record FailTransitionCommand(
        @TargetAggregateIdentifier String workspaceId,
        long buildNumber,
        String error) {
}
