package dev.atelier.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The passwords of the embedded PostgreSQL: one for the bootstrap superuser {@code postgres} (used only at start-up
 * to create and upgrade the engine's role and database) and one for the engine's own role. Generated on first start
 * from {@link SecureRandom}, kept in {@code <data dir>/db-credentials/} (mode 0700, files 0600, opened without
 * following symbolic links) and never logged. Anybody who can read these files can also read the database files
 * next to them, so they add no exposure; what they add is that code which can only reach the database over the
 * network (a workspace with the host's network) cannot log in.
 *
 * @param superuser the password of {@code postgres}
 * @param engine    the password of the engine's role
 * @param fresh     true when the files were written just now, so the server's roles do not know them yet
 */
record DatabaseCredentials(String superuser, String engine, boolean fresh) {

    static final String DIRECTORY = "db-credentials";
    static final String SUPERUSER_FILE = "superuser.password";
    static final String ENGINE_FILE = "engine.password";
    private static final Logger log = LoggerFactory.getLogger(DatabaseCredentials.class);
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Reads the passwords under {@code dataDir}, creating the ones that are missing. */
    static DatabaseCredentials load(Path dataDir) throws IOException {
        Path dir = dataDir.resolve(DIRECTORY);
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dataDir);
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
        }
        ownerOnly(dir, OWNER_ONLY_DIR, true);
        boolean[] created = new boolean[1];
        String superuser = readOrCreate(dir.resolve(SUPERUSER_FILE), created);
        String engine = readOrCreate(dir.resolve(ENGINE_FILE), created);
        if (created[0]) {
            log.info("generated database passwords in {} (mode 0600; they are never logged)", dir);
        }
        return new DatabaseCredentials(superuser, engine, created[0]);
    }

    private static String readOrCreate(Path file, boolean[] created) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            String password = generate();
            try (SeekableByteChannel out = Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE))) {
                out.write(ByteBuffer.wrap((password + "\n").getBytes(StandardCharsets.US_ASCII)));
            } catch (FileAlreadyExistsException e) {
                throw new IOException(file + " appeared while it was being created; start again", e);
            }
            created[0] = true;
            return password;
        }
        ownerOnly(file, OWNER_ONLY_FILE, false);
        byte[] bytes;
        try (SeekableByteChannel in = Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            if (in.size() > 1024) {
                throw new IOException(file + " is not a password file (too large)");
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) in.size());
            while (buffer.hasRemaining() && in.read(buffer) > 0) {
                // read it all
            }
            bytes = buffer.array();
        }
        String password = new String(bytes, StandardCharsets.US_ASCII).strip();
        if (password.isEmpty() || !password.matches("[A-Za-z0-9_-]{16,200}")) {
            // Never echo the content: it is (or is meant to be) a secret.
            throw new IOException(file + " does not hold a password Atelier wrote; remove it to generate a new one");
        }
        return password;
    }

    /** A regular file or directory (not a link) that only its owner can read; wider permissions are narrowed. */
    private static void ownerOnly(Path path, Set<PosixFilePermission> wanted, boolean directory) throws IOException {
        BasicFileAttributes basic = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (basic.isSymbolicLink() || (directory ? !basic.isDirectory() : !basic.isRegularFile())) {
            throw new IOException(path + " must be a " + (directory ? "directory" : "regular file")
                    + ", not a link or anything else");
        }
        PosixFileAttributes posix = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!posix.permissions().equals(wanted)) {
            log.warn("{} had permissions {}; narrowing them to {}", path,
                    PosixFilePermissions.toString(posix.permissions()), PosixFilePermissions.toString(wanted));
            Files.setPosixFilePermissions(path, wanted);
        }
    }

    private static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public String toString() {
        return "DatabaseCredentials[fresh=" + fresh + "]";
    }
}
