package dev.atelier.provider;

/**
 * The one POSIX {@code sh} single-quoting of the providers. Every provider that writes a command line or a file that
 * {@code sh} sources (the SSH host's commands and environment file, the container's agent environment, a VM's user
 * data, a pod's agent secret, the agent bootstrap snippet) quotes with this, so a fix or a review applies to all of
 * them at once instead of to five copies that could drift apart.
 *
 * <p>Inside single quotes {@code sh} interprets nothing ({@code $}, backticks, {@code \}, globs, line breaks and
 * leading dashes are all literal), so the only character to handle is the single quote itself, which ends the quoted
 * string: it becomes {@code '"'"'} (close the quote, a double-quoted quote, reopen).
 *
 * <p>A NUL character cannot be represented at all: a command line is a C string that ends at the first NUL, and
 * {@code sh} drops or stops at NULs in a file it sources, so the value {@code sh} sees would silently differ from the
 * one quoted. The copies this class replaces passed a NUL through unchanged (their callers reject NULs in user input
 * first); this class keeps the strictest behaviour and refuses it.
 */
public final class ShellQuoting {

    private ShellQuoting() {
    }

    /**
     * @param value any string, possibly empty; never {@code null}
     * @return {@code value} as one {@code sh} word that {@code sh} reads back as exactly {@code value}
     * @throws ProviderException (permanent) when {@code value} contains a NUL character; the message does not echo the
     *                           value, which may be a secret
     */
    public static String quote(String value) {
        if (value.indexOf('\0') >= 0) {
            throw ProviderException.permanent("a value for the shell contains a NUL character, which sh cannot receive");
        }
        return "'" + value.replace("'", "'\"'\"'") + "'";
    }
}
