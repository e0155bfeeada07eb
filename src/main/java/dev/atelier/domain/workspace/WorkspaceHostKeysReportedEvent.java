package dev.atelier.domain.workspace;

import org.axonframework.serialization.Revision;

import java.util.List;

/**
 * The workspace's agent reported the SSH host keys of the machine it runs on for this build: the only host keys the
 * SSH gateway accepts from the workspace's sshd until the next build. Fingerprints only; public keys are not secret
 * but the fingerprint is all a check needs.
 */
@Revision("1")
public record WorkspaceHostKeysReportedEvent(String workspaceId,
                                             long buildNumber,
                                             List<String> fingerprints) {
    public WorkspaceHostKeysReportedEvent {
        fingerprints = fingerprints == null ? List.of() : List.copyOf(fingerprints);
    }
}
