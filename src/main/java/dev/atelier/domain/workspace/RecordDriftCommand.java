package dev.atelier.domain.workspace;

import org.axonframework.modelling.command.TargetAggregateIdentifier;

/**
 * Sent by reconciliation when a provider reports a workspace's resource different from what the engine recorded.
 * {@code buildNumber} is the build reconciliation looked at: a transition begun since makes the finding stale.
 *
 * @param detail what the provider reported, in words (no user data beyond ids)
 */
public record RecordDriftCommand(@TargetAggregateIdentifier String workspaceId,
                                 long buildNumber,
                                 DriftFinding found,
                                 String detail) {
}
