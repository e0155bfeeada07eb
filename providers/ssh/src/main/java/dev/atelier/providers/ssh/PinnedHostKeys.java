package dev.atelier.providers.ssh;

import org.apache.sshd.client.SshClient;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.digest.BuiltinDigests;

import java.security.PublicKey;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Strict host key checking for the engine's SSH clients ({@link SshConnector} for the ssh provider's own work,
 * {@link SshShells} for the gateway's hop): a server is accepted only if it presents a key whose SHA256 fingerprint
 * the login expects; there is no trust on first use, no known_hosts file and no accept-all. The fingerprint the
 * server presented is kept for the error message, since the key exchange may fail before a session is returned.
 */
final class PinnedHostKeys {

    private static final AttributeRepository.AttributeKey<List<String>> EXPECTED = new AttributeRepository.AttributeKey<>();
    private static final AttributeRepository.AttributeKey<AtomicReference<String>> PRESENTED =
            new AttributeRepository.AttributeKey<>();

    private PinnedHostKeys() {
    }

    /** Sets the client's verifier to the pinned check, and keeps it from ever reading the engine user's ~/.ssh. */
    static void install(SshClient client) {
        client.setServerKeyVerifier((session, address, key) -> {
            AttributeRepository context = session.getConnectionContext();
            List<String> expected = context == null ? null : context.getAttribute(EXPECTED);
            String presented = fingerprint(key);
            if (context != null && context.getAttribute(PRESENTED) != null) {
                context.getAttribute(PRESENTED).set(presented);
            }
            return expected != null && expected.contains(presented);
        });
        client.setKeyIdentityProvider(s -> List.of());
    }

    /**
     * The connection context of one login: the fingerprints it accepts, and where the verifier leaves the one the
     * server presented.
     */
    static AttributeRepository expecting(List<String> fingerprints, AtomicReference<String> presented) {
        return AttributeRepository.ofAttributesMap(Map.of(EXPECTED, List.copyOf(fingerprints), PRESENTED, presented));
    }

    static String fingerprint(PublicKey key) {
        return KeyUtils.getFingerPrint(BuiltinDigests.sha256, key);
    }
}
