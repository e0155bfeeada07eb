package dev.atelier.providers.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * File access in and near workspaces that never follows a symbolic link. Paths are resolved one component at a
 * time from a trusted base directory (operator-configured: the workspace root or the engine's state root) with
 * {@code openat(..., O_NOFOLLOW)} through {@link SecureDirectoryStream}, so a link anywhere below the base, in a
 * directory component or as the file itself, is refused instead of followed. Removing a tree works the same way:
 * a directory swapped for a link while the tree is removed removes the link, never what it points to.
 */
final class StateFiles {

    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");

    private StateFiles() {
    }

    /** Opens {@code base/names...} as a directory, following no link below {@code base}. */
    static SecureDirectoryStream<Path> directory(Path base, String... names) throws IOException {
        DirectoryStream<Path> opened = Files.newDirectoryStream(base);
        if (!(opened instanceof SecureDirectoryStream<Path> current)) {
            opened.close();
            throw new IOException("this platform cannot open directories without following links");
        }
        try {
            for (String name : names) {
                SecureDirectoryStream<Path> next = current.newDirectoryStream(component(name), LinkOption.NOFOLLOW_LINKS);
                current.close();
                current = next;
            }
            return current;
        } catch (IOException | RuntimeException e) {
            current.close();
            throw e;
        }
    }

    /** Makes {@code base/names...} (missing directories get {@code permissions}), refusing links on the way. */
    static void makeDirectories(Path base, Set<PosixFilePermission> permissions, String... names) throws IOException {
        Path path = base;
        for (String name : names) {
            path = path.resolve(component(name));
            try {
                Files.createDirectory(path, PosixFilePermissions.asFileAttribute(permissions));
                Files.setPosixFilePermissions(path, permissions); // the umask may have taken bits away
            } catch (FileAlreadyExistsException e) {
                BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                if (!attributes.isDirectory() || attributes.isSymbolicLink()) {
                    throw new IOException(path + " is not a directory (a link or a file is in its place)");
                }
            }
        }
        directory(base, names).close(); // proves the whole chain holds no link
    }

    /** Replaces {@code base/dirs.../name} atomically with {@code content}; an existing link is replaced, not followed. */
    static void write(Path base, String[] dirs, String name, byte[] content, Set<PosixFilePermission> permissions)
            throws IOException {
        try (SecureDirectoryStream<Path> dir = directory(base, dirs)) {
            Path tmp = component("." + name + "." + UUID.randomUUID() + ".tmp");
            try (SeekableByteChannel out = dir.newByteChannel(tmp, Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(permissions))) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
            }
            dir.getFileAttributeView(tmp, java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setPermissions(permissions);
            dir.move(tmp, dir, component(name));
        }
    }

    /** Creates {@code base/dirs.../name} empty unless it is already a regular file; anything else is refused. */
    static void ensureRegularFile(Path base, String[] dirs, String name, Set<PosixFilePermission> permissions)
            throws IOException {
        try (SecureDirectoryStream<Path> dir = directory(base, dirs)) {
            Optional<BasicFileAttributes> existing = attributes(dir, name);
            if (existing.isPresent()) {
                if (!existing.get().isRegularFile() || existing.get().isSymbolicLink()) {
                    dir.deleteFile(component(name)); // a link or a pipe where a log belongs: replace it
                } else {
                    return;
                }
            }
            dir.newByteChannel(component(name), Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(permissions)).close();
        }
    }

    /** Up to {@code max} bytes of a regular file (its end if {@code tail}); empty when it is missing or not a file. */
    static Optional<byte[]> read(Path base, String[] dirs, String name, int max, boolean tail) throws IOException {
        try (SecureDirectoryStream<Path> dir = directory(base, dirs)) {
            Optional<BasicFileAttributes> attributes = attributes(dir, name);
            if (attributes.isEmpty() || !attributes.get().isRegularFile()) {
                return Optional.empty();
            }
            try (SeekableByteChannel in = dir.newByteChannel(component(name), Set.of(StandardOpenOption.READ,
                    LinkOption.NOFOLLOW_LINKS))) {
                long size = in.size();
                if (size > max && !tail) {
                    throw new IOException(name + " is larger than " + max + " bytes");
                }
                in.position(Math.max(0, size - max));
                ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size, max));
                while (buffer.hasRemaining() && in.read(buffer) > 0) {
                    // fill
                }
                return Optional.of(java.util.Arrays.copyOf(buffer.array(), buffer.position()));
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    static boolean exists(Path base, String[] dirs, String name) throws IOException {
        try (SecureDirectoryStream<Path> dir = directory(base, dirs)) {
            return attributes(dir, name).isPresent();
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Unlinks {@code base/dirs.../name} (a link itself, never its target); missing is fine. */
    static void delete(Path base, String[] dirs, String name) throws IOException {
        try (SecureDirectoryStream<Path> dir = directory(base, dirs)) {
            dir.deleteFile(component(name));
        } catch (NoSuchFileException e) {
            // already gone
        }
    }

    /** Removes {@code base/name} and everything below it without following any link. Missing is fine. */
    static void deleteTree(Path base, String name) throws IOException {
        try (SecureDirectoryStream<Path> parent = directory(base)) {
            Optional<BasicFileAttributes> attributes = attributes(parent, name);
            if (attributes.isEmpty()) {
                return;
            }
            if (!attributes.get().isDirectory()) {
                parent.deleteFile(component(name));
                return;
            }
            try (SecureDirectoryStream<Path> dir = parent.newDirectoryStream(component(name), LinkOption.NOFOLLOW_LINKS)) {
                empty(dir);
            }
            parent.deleteDirectory(component(name));
        }
    }

    private static void empty(SecureDirectoryStream<Path> dir) throws IOException {
        List<Path> entries = new ArrayList<>();
        dir.forEach(p -> entries.add(p.getFileName()));
        for (Path entry : entries) {
            BasicFileAttributes attributes = dir.getFileAttributeView(entry, BasicFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS).readAttributes();
            if (attributes.isDirectory()) {
                // A directory the workspace made unwritable (chmod 500) must not make it undeletable.
                dir.getFileAttributeView(entry, java.nio.file.attribute.PosixFileAttributeView.class,
                        LinkOption.NOFOLLOW_LINKS).setPermissions(PosixFilePermissions.fromString("rwx------"));
                try (SecureDirectoryStream<Path> child = dir.newDirectoryStream(entry, LinkOption.NOFOLLOW_LINKS)) {
                    empty(child);
                }
                dir.deleteDirectory(entry);
            } else {
                dir.deleteFile(entry);
            }
        }
    }

    private static Optional<BasicFileAttributes> attributes(SecureDirectoryStream<Path> dir, String name)
            throws IOException {
        try {
            return Optional.of(dir.getFileAttributeView(component(name), BasicFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS).readAttributes());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** One path component: no separator, not {@code .} or {@code ..}. */
    private static Path component(String name) {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a single file name: " + name);
        }
        return Path.of(name);
    }
}
