package dev.atelier.security;

import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.DSAPublicKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.util.OpenSSHPublicKeyUtil;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * SSH public keys as users paste them ({@code ssh-ed25519 AAAA... comment}), parsed by BouncyCastle's OpenSSH codec:
 * the type must be one the SSH gateway accepts and match the key inside, RSA keys need at least 2048 bits, and the
 * blob must be exactly one key. The fingerprint is OpenSSH's ({@code SHA256:} and the unpadded base64 of the blob's
 * SHA-256), as {@code ssh-keygen -lf} shows it. The comment is not kept.
 */
public final class SshPublicKeys {

    static final int MIN_RSA_BITS = 2048;
    static final int MAX_RSA_BITS = 16384;
    private static final int MAX_TEXT = 16 * 1024;
    private static final Map<Integer, String> EC_TYPES = Map.of(256, "ecdsa-sha2-nistp256", 384, "ecdsa-sha2-nistp384",
            521, "ecdsa-sha2-nistp521");

    private SshPublicKeys() {
    }

    /** A checked key: {@code publicKey} is {@code <type> <base64>}, without the comment. */
    public record SshPublicKey(String type, int bits, String fingerprint, String publicKey) {
    }

    /** @throws IllegalArgumentException saying what is wrong, never echoing the key */
    public static SshPublicKey parse(String text) {
        if (text == null || text.isBlank() || text.length() > MAX_TEXT) {
            throw new IllegalArgumentException("'publicKey' needs one OpenSSH public key line (ssh-ed25519 AAAA...), "
                    + "at most " + MAX_TEXT + " characters");
        }
        String[] parts = text.trim().split("\\s+", 3);
        if (parts.length < 2) {
            throw new IllegalArgumentException("'publicKey' is not an OpenSSH public key line: it needs the type and the "
                    + "base64 key (ssh-ed25519 AAAA...)");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the key in 'publicKey' is not valid base64");
        }
        AsymmetricKeyParameter key;
        byte[] canonical;
        try {
            key = OpenSSHPublicKeyUtil.parsePublicKey(blob);
            canonical = OpenSSHPublicKeyUtil.encodePublicKey(key);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("'publicKey' could not be read as an SSH public key (accepted: "
                    + "ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of at least " + MIN_RSA_BITS + " bits)");
        }
        if (!Arrays.equals(blob, canonical)) {
            throw new IllegalArgumentException("'publicKey' has data after the key");
        }
        String type;
        int bits;
        if (key instanceof Ed25519PublicKeyParameters) {
            type = "ssh-ed25519";
            bits = 256;
        } else if (key instanceof ECPublicKeyParameters ec) {
            bits = ec.getParameters().getCurve().getFieldSize();
            type = EC_TYPES.get(bits);
        } else if (key instanceof RSAKeyParameters rsa) {
            type = "ssh-rsa";
            bits = rsa.getModulus().bitLength();
            if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
                throw new IllegalArgumentException("an RSA key needs " + MIN_RSA_BITS + " to " + MAX_RSA_BITS
                        + " bits; this one has " + bits + " (ssh-keygen -t ed25519 makes a better key)");
            }
        } else if (key instanceof DSAPublicKeyParameters) {
            throw new IllegalArgumentException("DSA keys (ssh-dss) are not accepted: they are broken and OpenSSH "
                    + "refuses them too; use ssh-keygen -t ed25519");
        } else {
            type = null;
            bits = 0;
        }
        if (type == null) {
            throw new IllegalArgumentException("this kind of key is not accepted (accepted: ssh-ed25519, "
                    + "ecdsa-sha2-nistp256/384/521, ssh-rsa)");
        }
        if (!type.equals(parts[0])) {
            throw new IllegalArgumentException("the type written before the key in 'publicKey' does not match the key "
                    + "(it is " + type + ")");
        }
        return new SshPublicKey(type, bits, fingerprint(blob), type + " " + Base64.getEncoder().encodeToString(blob));
    }

    static String fingerprint(byte[] blob) {
        try {
            return "SHA256:" + Base64.getEncoder().withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(blob));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
