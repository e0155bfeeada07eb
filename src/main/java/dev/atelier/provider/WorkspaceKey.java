package dev.atelier.provider;

import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.util.OpenSSHPrivateKeyUtil;
import org.bouncycastle.crypto.util.OpenSSHPublicKeyUtil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The engine's own SSH key for the hop from the SSH gateway into ssh and VM workspaces: workspaces trust its public
 * key (the ssh provider writes it into the workspace account's {@code authorized_keys}, a VM's user data installs
 * it), and the engine logs in with the private key to run the gateway user's commands and forwardings there.
 *
 * <p>It lives here, beside the provider interface, so that both the gateway and the providers can use it without
 * knowing each other. The private key stays a file of the engine's (permissions 600): this class hands out only its
 * path and the public key line, and its {@link #toString()} names neither.
 */
public final class WorkspaceKey {

    /** The comment of the public key line, so that an operator can tell the key apart in authorized_keys. */
    public static final String COMMENT = "atelier-gateway";
    private static final String BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
    private static final String END = "-----END OPENSSH PRIVATE KEY-----";

    private final Path privateKeyFile;
    private final String publicKey;

    private WorkspaceKey(Path privateKeyFile, String publicKey) {
        this.privateKeyFile = privateKeyFile;
        this.publicKey = publicKey;
    }

    /**
     * The key in {@code file}: an unencrypted OpenSSH ed25519 private key. A missing file is generated (directories
     * made, permissions 600), so that workspaces keep trusting the engine across restarts.
     */
    public static WorkspaceKey at(Path file) {
        Path path = file.toAbsolutePath().normalize();
        try {
            if (!Files.exists(path)) {
                generate(path);
            }
            Ed25519PrivateKeyParameters key = read(path);
            return new WorkspaceKey(path, publicLine(key.generatePublicKey()));
        } catch (IOException e) {
            throw new UncheckedIOException("workspace key " + path + ": " + e.getMessage(), e);
        }
    }

    /** The private key file, for an SSH client of the engine to load; never to be shown or sent anywhere. */
    public Path privateKeyFile() {
        return privateKeyFile;
    }

    /** The OpenSSH public key line ({@code ssh-ed25519 AAAA… atelier-gateway}) that workspaces authorise. */
    public String publicKey() {
        return publicKey;
    }

    @Override
    public String toString() {
        return "WorkspaceKey[" + publicKey + "]";
    }

    private static void generate(Path path) throws IOException {
        Files.createDirectories(path.getParent());
        Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
        generator.init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        AsymmetricCipherKeyPair pair = generator.generateKeyPair();
        byte[] blob = OpenSSHPrivateKeyUtil.encodePrivateKey(pair.getPrivate());
        String pem = BEGIN + "\n" + Base64.getMimeEncoder(70, new byte[]{'\n'}).encodeToString(blob) + "\n" + END + "\n";
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, pem, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(tmp, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static Ed25519PrivateKeyParameters read(Path path) throws IOException {
        String text = Files.readString(path, StandardCharsets.US_ASCII).strip();
        if (!text.startsWith(BEGIN) || !text.endsWith(END)) {
            throw new IOException("not an OpenSSH private key (expected an unencrypted ed25519 key, as made by "
                    + "ssh-keygen -t ed25519 -N '')");
        }
        byte[] blob = Base64.getMimeDecoder().decode(text.substring(BEGIN.length(), text.length() - END.length()));
        try {
            if (OpenSSHPrivateKeyUtil.parsePrivateKeyBlob(blob) instanceof Ed25519PrivateKeyParameters ed25519) {
                return ed25519;
            }
        } catch (RuntimeException e) {
            // the message could quote key material: say only what is expected
        }
        throw new IOException("not an unencrypted OpenSSH ed25519 private key (ssh-keygen -t ed25519 -N '')");
    }

    private static String publicLine(Ed25519PublicKeyParameters key) throws IOException {
        return "ssh-ed25519 " + Base64.getEncoder().encodeToString(OpenSSHPublicKeyUtil.encodePublicKey(key)) + " "
                + COMMENT;
    }
}
