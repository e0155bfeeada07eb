package dev.atelier.domain.workspace;

import org.axonframework.modelling.command.TargetAggregateIdentifier;

import java.util.List;

/**
 * Sent for the workspace's agent (with its build-bound agent token) when it reports the SSH host keys of the machine
 * it runs on, so that the SSH gateway's hop into a VM workspace can check the VM's sshd against them.
 *
 * @param buildNumber  the build the agent's token was issued for
 * @param fingerprints the keys' SHA256 fingerprints ({@code SHA256:} and 43 base64 characters), computed by the engine
 *                     from the public keys the agent sent
 */
public record ReportHostKeysCommand(@TargetAggregateIdentifier String workspaceId,
                                    long buildNumber,
                                    List<String> fingerprints) {
    public ReportHostKeysCommand {
        fingerprints = fingerprints == null ? List.of() : List.copyOf(fingerprints);
    }
}
