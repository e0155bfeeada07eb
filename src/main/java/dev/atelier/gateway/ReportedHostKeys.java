package dev.atelier.gateway;

import dev.atelier.domain.workspace.Workspace;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.digest.BuiltinDigests;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads the SSH host keys a workspace's agent reports (the lines of its machine's {@code /etc/ssh/ssh_host_*_key.pub})
 * into the SHA256 fingerprints the gateway's hop checks a VM's sshd against. The lines come from inside a workspace,
 * so they are untrusted input: each must be one OpenSSH public key line of a known key type that parses into a real
 * public key; nothing of a refused line is repeated in the error.
 */
public final class ReportedHostKeys {

    /** A 16384-bit RSA key's line is about 2.8 kB. */
    private static final int MAX_LINE = 4096;
    private static final Pattern LINE = Pattern.compile("(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)"
            + " [A-Za-z0-9+/]+={0,3}( [\\x21-\\x7e]{1,255})?");

    private ReportedHostKeys() {
    }

    /**
     * @return the keys' fingerprints, in the order given
     * @throws IllegalArgumentException with a message that names the line by position only
     */
    public static List<String> fingerprints(List<String> lines) {
        if (lines == null || lines.isEmpty() || lines.size() > Workspace.MAX_HOST_KEYS) {
            throw new IllegalArgumentException("'keys' needs 1 to " + Workspace.MAX_HOST_KEYS + " public key lines");
        }
        List<String> fingerprints = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i) == null ? "" : lines.get(i).strip();
            if (line.length() > MAX_LINE || !LINE.matcher(line).matches()) {
                throw new IllegalArgumentException("key " + (i + 1) + " is not an OpenSSH public key line "
                        + "(ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa, base64, an optional comment)");
            }
            PublicKey key;
            try {
                key = PublicKeyEntry.parsePublicKeyEntry(line).resolvePublicKey(null, null,
                        PublicKeyEntryResolver.FAILING);
            } catch (Exception e) {
                key = null;
            }
            if (key == null) {
                throw new IllegalArgumentException("key " + (i + 1) + " does not decode into a public key");
            }
            fingerprints.add(KeyUtils.getFingerPrint(BuiltinDigests.sha256, key));
        }
        return fingerprints;
    }
}
