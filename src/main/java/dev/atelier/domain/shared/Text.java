package dev.atelier.domain.shared;

/**
 * Rules for text that comes from outside: what PostgreSQL, shells, terminals and spreadsheets cannot take safely.
 * The API checks every string once at its boundary; aggregates check again with the same rules (defence in depth),
 * so that a request that slipped past the boundary still cannot put a NUL into an event that every projection
 * would then fail on.
 */
public final class Text {

    /** How much of a submitted value an error message may show (escaped). */
    public static final int QUOTE_PREFIX = 40;

    private Text() {
    }

    /**
     * What is wrong with {@code value}, or null when nothing is: a control character (tab, line feed and carriage
     * return only when {@code multiline}), an unpaired UTF-16 surrogate, or more than {@code maxLength} characters.
     * The answer never contains the value itself, only positions and code points.
     */
    public static String problem(String value, int maxLength, boolean multiline) {
        if (value == null) {
            return null;
        }
        if (value.length() > maxLength) {
            return "is longer than " + maxLength + " characters (has " + value.length() + ")";
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return "contains an unpaired UTF-16 surrogate at position " + i;
            }
            if (Character.isLowSurrogate(c)) {
                return "contains an unpaired UTF-16 surrogate at position " + i;
            }
            if (isControl(c) && !(multiline && (c == '\t' || c == '\n' || c == '\r'))) {
                return "contains the control character U+" + String.format("%04X", (int) c) + " at position " + i
                        + (multiline ? " (only tab and line breaks are allowed here)" : "");
            }
        }
        return null;
    }

    /** Refuses a value that {@link #problem} finds fault with, naming the field (never echoing the value). */
    public static void require(String field, String value, int maxLength, boolean multiline) {
        String problem = problem(value, maxLength, multiline);
        if (problem != null) {
            throw DomainRuleViolation.invalid(field + " " + problem);
        }
    }

    /** C0 controls, DEL, C1 controls and the Unicode line/paragraph separators. */
    public static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }

    /**
     * A submitted value as an error message may show it: quoted, at most {@value #QUOTE_PREFIX} characters, with
     * control characters, quotes, backslashes and unpaired surrogates escaped as {@code \\uXXXX}.
     */
    public static String quote(Object raw) {
        if (raw == null) {
            return "null";
        }
        String value = raw.toString();
        StringBuilder out = new StringBuilder("'");
        int shown = Math.min(value.length(), QUOTE_PREFIX);
        for (int i = 0; i < shown; i++) {
            char c = value.charAt(i);
            boolean pairedHigh = Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1));
            if (pairedHigh && i + 1 < shown) {
                out.append(c).append(value.charAt(++i));
            } else if (isControl(c) || Character.isSurrogate(c) || c == '\'' || c == '\\' || c == '"') {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('\'');
        if (value.length() > shown) {
            out.append(" (first ").append(shown).append(" of ").append(value.length()).append(" characters)");
        }
        return out.toString();
    }

    /**
     * Text that must be stored whatever it holds (an event already in the store, an error from a provider): a NUL,
     * which PostgreSQL's text types cannot hold, and unpaired surrogates, which UTF-8 cannot encode, become U+FFFD.
     * Everything else is kept as it is, so that stored hashes of ordinary text do not change.
     */
    public static String storable(String value) {
        if (value == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean bad;
            if (Character.isHighSurrogate(c)) {
                bad = !(i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1)));
                if (!bad) {
                    if (out != null) {
                        out.append(c).append(value.charAt(i + 1));
                    }
                    i++;
                    continue;
                }
            } else {
                bad = c == 0 || Character.isLowSurrogate(c);
            }
            if (bad && out == null) {
                out = new StringBuilder(value.length()).append(value, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : c);
            }
        }
        return out == null ? value : out.toString();
    }

    /**
     * A cell that a spreadsheet would run as a formula ({@code = + - @}, or a tab or carriage return before one)
     * gets a leading {@code '}, the usual CSV-injection defence (OWASP).
     */
    public static String spreadsheetSafe(String value) {
        if (value == null || value.isEmpty()) {
            return value;
        }
        char first = value.charAt(0);
        return first == '=' || first == '+' || first == '-' || first == '@' || first == '\t' || first == '\r'
                ? "'" + value : value;
    }
}
