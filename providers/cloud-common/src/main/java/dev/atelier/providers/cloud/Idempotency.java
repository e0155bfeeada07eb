package dev.atelier.providers.cloud;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Names and request ids derived from a provision request's idempotency key (workspace id + build), so that a
 * repeated call (a retry, or the same step after an engine restart) is recognised by the cloud as the same request.
 */
public final class Idempotency {

    private Idempotency() {
    }

    /** A UUID (name-based, version 3) that is the same for the same key and action: GCP {@code requestId}. */
    public static UUID requestUuid(String idempotencyKey, String action) {
        return UUID.nameUUIDFromBytes(("atelier:" + idempotencyKey + ":" + action).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A VM name for a workspace: {@code atelier-<workspace id>} lower-cased when that is a valid name of at most
     * {@code maxLength} characters of {@code [a-z0-9-]}, else {@code atelier-<hash>}. One name per workspace (not
     * per build): whatever build creates the VM, there is never a second one for the workspace.
     */
    public static String vmName(String workspaceId, int maxLength) {
        String name = "atelier-" + workspaceId.toLowerCase();
        if (name.length() <= maxLength && name.matches("[a-z][a-z0-9-]*[a-z0-9]")) {
            return name;
        }
        return "atelier-" + sha256(workspaceId).substring(0, Math.min(32, maxLength - 8));
    }

    /** A token of at most {@code maxLength} ASCII characters: the key itself if short enough, else its hash. */
    public static String token(String idempotencyKey, int maxLength) {
        return idempotencyKey.length() <= maxLength && idempotencyKey.matches("[\\x21-\\x7e]+") ? idempotencyKey
                : sha256(idempotencyKey).substring(0, Math.min(64, maxLength));
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
