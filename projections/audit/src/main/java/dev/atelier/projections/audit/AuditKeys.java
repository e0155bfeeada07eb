package dev.atelier.projections.audit;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * The audit trail's keys, generated once and kept in {@code engine_secret} (shared by every node): an Ed25519 key
 * pair that signs purge checkpoints and chain heads, and an HMAC key for digests of secret values (so a diff can
 * say a secret changed without showing it). The public key is published by {@code GET /api/v1/audit/verify} so
 * that a verifier can pin it.
 */
@Component
public class AuditKeys {

    static final String SIGNING_KEY = "audit-signing-key";
    static final String DIGEST_KEY = "audit-digest-key";

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final byte[] digestKey;

    @Autowired
    public AuditKeys(JdbcTemplate jdbc) {
        byte[] pair = loadOrCreate(jdbc, SIGNING_KEY, AuditKeys::newKeyPair);
        try {
            ByteBuffer buffer = ByteBuffer.wrap(pair);
            byte[] encodedPrivate = new byte[buffer.getShort()];
            buffer.get(encodedPrivate);
            byte[] encodedPublic = new byte[buffer.remaining()];
            buffer.get(encodedPublic);
            KeyFactory keys = KeyFactory.getInstance("Ed25519");
            this.privateKey = keys.generatePrivate(new PKCS8EncodedKeySpec(encodedPrivate));
            this.publicKey = keys.generatePublic(new X509EncodedKeySpec(encodedPublic));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalStateException("the stored audit signing key is unreadable: " + e.getMessage(), e);
        }
        this.digestKey = loadOrCreate(jdbc, DIGEST_KEY, () -> {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            return key;
        });
    }

    byte[] digestKey() {
        return digestKey.clone();
    }

    /** Ed25519 signature of the canonical text, base64. */
    String sign(String canonical) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(privateKey);
            signature.update(canonical.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    boolean verify(String canonical, String base64Signature) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initVerify(publicKey);
            signature.update(canonical.getBytes(StandardCharsets.UTF_8));
            return signature.verify(Base64.getDecoder().decode(base64Signature));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The public key, X.509 SubjectPublicKeyInfo, base64. */
    public String publicKey() {
        return Base64.getEncoder().encodeToString(publicKey.getEncoded());
    }

    /** Private and public key in one value, so that two nodes starting together cannot store halves of two pairs. */
    private static byte[] newKeyPair() {
        try {
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            byte[] encodedPrivate = pair.getPrivate().getEncoded();
            byte[] encodedPublic = pair.getPublic().getEncoded();
            return ByteBuffer.allocate(2 + encodedPrivate.length + encodedPublic.length)
                    .putShort((short) encodedPrivate.length).put(encodedPrivate).put(encodedPublic).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] loadOrCreate(JdbcTemplate jdbc, String name, java.util.function.Supplier<byte[]> fresh) {
        // The first node to start wins; everybody reads the stored value afterwards (as AgentTokens does).
        jdbc.update("INSERT INTO engine_secret (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING", name, fresh.get());
        return jdbc.queryForObject("SELECT value FROM engine_secret WHERE name = ?", byte[].class, name);
    }
}
