package dev.atelier.config;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.LinuxUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes the embedded PostgreSQL accept password logins only ({@code scram-sha-256} over TCP on loopback; no Unix
 * socket), before the server ever listens. zonky's {@code initdb} writes a {@code trust} configuration and a
 * superuser without a password, and data directories of older Atelier versions look the same. Starting such a
 * server, even for a moment, would let any local process (a workspace on the host's network) in as superuser.
 * So the superuser's password is set in PostgreSQL's single-user mode, which opens no connection at all, and
 * {@code pg_hba.conf} is rewritten, all while the server is down. Only then does the server start.
 */
final class PostgresAuthentication {

    static final String HBA_HEADER = "# Written by Atelier at every start: every connection needs a password (scram-sha-256).";
    static final String HBA = HBA_HEADER + "\n"
            + "# There is no Unix socket (unix_socket_directories is empty) and the server listens on 127.0.0.1 only.\n"
            + "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            + "host    all       all   127.0.0.1/32  scram-sha-256\n"
            + "host    all       all   ::1/128       scram-sha-256\n";
    private static final Logger log = LoggerFactory.getLogger(PostgresAuthentication.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int SCRAM_ITERATIONS = 4096;

    private PostgresAuthentication() {
    }

    /**
     * Runs between zonky's {@code initdb} (first start only) and the server's start. Sets the superuser's password
     * when the configuration is not yet ours (first start, or a data directory of an older version that trusted
     * every local connection) or when the password files were just generated, and writes {@link #HBA}.
     *
     * @param existingCluster false right after zonky's {@code initdb} made the cluster (not an upgrade)
     */
    static void enforce(Path pgData, DatabaseCredentials credentials, boolean existingCluster) {
        try {
            Path hba = pgData.resolve("pg_hba.conf");
            String current = Files.exists(hba, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(hba)
                    ? Files.readString(hba) : "";
            if (!current.startsWith(HBA_HEADER) || credentials.fresh()) {
                if (existingCluster && !current.startsWith(HBA_HEADER)) {
                    log.warn("upgrading the authentication of the embedded PostgreSQL in {}: passwords instead of "
                            + "trusting every local connection", pgData);
                }
                singleUser(pgData, "ALTER ROLE " + EmbeddedPostgres.SUPERUSER + " WITH PASSWORD '"
                        + scramVerifier(credentials.superuser()) + "'");
            }
            if (!current.equals(HBA)) {
                Path tmp = pgData.resolve("pg_hba.conf.atelier-tmp");
                Files.deleteIfExists(tmp);
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, HBA, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
                Files.move(tmp, hba, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not set password authentication on " + pgData + ": " + e.getMessage(), e);
        }
    }

    /**
     * A SCRAM-SHA-256 verifier of {@code password} in PostgreSQL's format (RFC 5802/7677), so that a password is
     * never sent as SQL text: a failing statement would put it into the server's log. The passwords here are
     * ASCII, for which SASLprep changes nothing.
     */
    static String scramVerifier(String password) {
        try {
            byte[] salt = new byte[16];
            RANDOM.nextBytes(salt);
            byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(new PBEKeySpec(password.toCharArray(), salt, SCRAM_ITERATIONS, 256)).getEncoded();
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(salted, "HmacSHA256"));
            byte[] clientKey = hmac.doFinal("Client Key".getBytes(StandardCharsets.US_ASCII));
            byte[] serverKey = hmac.doFinal("Server Key".getBytes(StandardCharsets.US_ASCII));
            byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
            Base64.Encoder b64 = Base64.getEncoder();
            return "SCRAM-SHA-256$" + SCRAM_ITERATIONS + ":" + b64.encodeToString(salt) + "$"
                    + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SCRAM-SHA-256 is not available in this JVM", e);
        }
    }

    /** Runs one statement in PostgreSQL's single-user mode: no listener, no connection, the server is down. */
    private static void singleUser(Path pgData, String statement) throws IOException {
        File postgres = new File(Binaries.directory(), "bin/postgres");
        if (!postgres.canExecute()) {
            throw new IOException("the embedded PostgreSQL binary is not at " + postgres);
        }
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            // As zonky does: PostgreSQL refuses to run as root, in a user namespace it is not root.
            command.addAll(List.of("unshare", "-U"));
        }
        command.addAll(List.of(postgres.getPath(), "--single", "-D", pgData.toString(), "-c", "listen_addresses=",
                "-c", "unix_socket_directories=", "-c", "password_encryption=scram-sha-256", "postgres"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = process.getOutputStream()) {
            in.write((statement + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("PostgreSQL's single-user mode did not finish within 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (process.exitValue() != 0 || output.contains("ERROR:") || output.contains("FATAL:")) {
            // The statement holds only a verifier, never the password; still keep it out of the message.
            throw new IOException("setting the superuser's password in single-user mode failed: "
                    + output.replace(statement, "<statement>").strip());
        }
    }

    /**
     * Where zonky unpacks the PostgreSQL binaries: {@code <working dir>/PG-<md5 of the archive>}. zonky does not
     * say, so the archive passes through this resolver on its way and the digest is taken here the same way.
     */
    static final class Binaries implements PgBinaryResolver {

        static final Binaries RESOLVER = new Binaries();
        private volatile String digest;

        static File workingDirectory() {
            File temp = new File(System.getProperty("java.io.tmpdir"), "embedded-pg");
            return new File(System.getProperty("ot.epg.working-dir", temp.getPath()));
        }

        static File directory() throws IOException {
            if (RESOLVER.digest == null) {
                throw new IOException("the PostgreSQL binaries have not been unpacked yet");
            }
            return new File(workingDirectory(), "PG-" + RESOLVER.digest);
        }

        @Override
        public InputStream getPgBinary(String system, String machineHardware) throws IOException {
            InputStream original = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machineHardware);
            if (original == null) {
                return null;
            }
            byte[] archive;
            try (original) {
                archive = original.readAllBytes();
            }
            try {
                digest = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(archive));
            } catch (GeneralSecurityException e) {
                throw new IOException(e);
            }
            return new ByteArrayInputStream(archive);
        }
    }
}
