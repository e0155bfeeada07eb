package dev.atelier.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/**
 * The block {@code atelier config-ssh} keeps in {@code ~/.ssh/config}, between two marker lines. Everything outside the
 * markers is left byte for byte as it was; the block is replaced where it stands, or appended at the end (never at the
 * start: options above the first Host line apply to every host and would then belong to ours). Writing the same block
 * again leaves the file untouched, so running config-ssh twice changes nothing.
 */
final class SshConfigFile {

    static final String BEGIN = "# >>> atelier config-ssh >>>";
    static final String END = "# <<< atelier config-ssh <<<";

    /** One {@code Host} entry. */
    record Entry(String alias, String user, String workspace) {
    }

    private SshConfigFile() {
    }

    /**
     * The block for these entries, sorted by alias.
     *
     * @param proxyCommand the command before the workspace name, already quoted for the shell
     * @param identityFile  an IdentityFile for every entry, or null for ssh's defaults
     */
    static String block(String engine, List<Entry> entries, String proxyCommand, Path knownHosts, Path identityFile) {
        StringBuilder text = new StringBuilder(BEGIN).append('\n')
                .append("# Written by 'atelier config-ssh' for ").append(engine)
                .append("; do not edit, run it again to update, 'atelier config-ssh --remove' to remove.\n");
        entries.stream().sorted(java.util.Comparator.comparing(Entry::alias)).forEach(e -> {
            text.append("Host ").append(e.alias()).append('\n')
                    .append("  User ").append(e.user()).append('\n')
                    .append("  ProxyCommand ").append(proxyCommand).append(' ').append(e.workspace()).append('\n')
                    .append("  UserKnownHostsFile ").append(configValue(knownHosts.toString())).append('\n')
                    .append("  HostKeyAlias ").append(Gateway.HOST_KEY_ALIAS).append('\n')
                    .append("  StrictHostKeyChecking yes\n");
            if (identityFile != null) {
                text.append("  IdentityFile ").append(configValue(identityFile.toString())).append('\n')
                        .append("  IdentitiesOnly yes\n");
            }
        });
        return text.append(END).append('\n').toString();
    }

    /** {@code config} with the block put in (or replaced); {@code block} null removes it. */
    static String apply(String config, String block) {
        int begin = config.indexOf(BEGIN);
        int end = config.indexOf(END, Math.max(begin, 0));
        if (begin >= 0 && (begin == 0 || config.charAt(begin - 1) == '\n') && end > begin) {
            int after = end + END.length();
            if (after < config.length() && config.charAt(after) == '\n') {
                after++;
            }
            String before = config.substring(0, begin);
            String rest = config.substring(after);
            if (block != null) {
                return before + block + rest;
            }
            // Removal also takes the blank line this put before the block.
            if (before.endsWith("\n\n")) {
                before = before.substring(0, before.length() - 1);
            }
            return before + rest;
        }
        if (block == null) {
            return config;
        }
        if (config.isEmpty()) {
            return block;
        }
        return config + (config.endsWith("\n") ? "\n" : "\n\n") + block;
    }

    /** A value of ssh_config: double-quoted when it has spaces (paths under a home with spaces). */
    static String configValue(String value) {
        if (value.contains("\"") || value.contains("\n")) {
            throw new CliException(ExitCodes.USAGE, "a path with a double quote or a line break cannot stand in ssh_config");
        }
        return value.contains(" ") || value.contains("\t") ? "\"" + value + "\"" : value;
    }

    /** One shell word: as is when it is plain, else single-quoted (ssh runs ProxyCommand with the user's shell). */
    static String shellWord(String word) {
        if (word.matches("[A-Za-z0-9_./:=@%+-]+")) {
            return word;
        }
        if (word.contains("\n")) {
            throw new CliException(ExitCodes.USAGE, "a command with a line break cannot stand in ssh_config");
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /**
     * Replaces {@code file} by {@code text} through a temporary file in the same directory: an existing file keeps its
     * permissions; a new one is 0600 (ssh refuses group/other-writable configs). The directory is created 0700.
     */
    static void writeAtomically(Path file, String text) throws IOException {
        Path target = Files.isSymbolicLink(file) ? file.toRealPath() : file.toAbsolutePath();
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Set<PosixFilePermission> permissions = Files.exists(target) ? Files.getPosixFilePermissions(target)
                : PosixFilePermissions.fromString("rw-------");
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(temp, permissions);
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
