package dev.atelier.gateway;

import dev.atelier.security.AtelierPrincipal;

/**
 * Who an SSH session acts as and which workspace it reaches, decided once when it authenticates.
 *
 * @param credential how the user proved who they are: {@code publickey SHA256:...} or {@code token:<id>} (never a secret)
 */
record Admission(AtelierPrincipal principal, String credential, String workspaceId, String workspaceName,
                 String owner, String provider) {
}
