package dev.atelier.cli;

/** Text from the engine shown on a terminal. */
final class Text {

    private Text() {
    }

    /**
     * The text with control characters replaced: names and descriptions come from other users, and an escape sequence
     * in one must not reach the terminal.
     */
    static String printable(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (Character.isISOControl(c) && c != '\n' && c != '\t' || c == 0x2028 || c == 0x2029 || c == 0x9b) {
                out.append('?');
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** One table cell: printable, on one line. */
    static String cell(String text) {
        return printable(text).replace('\n', ' ').replace('\t', ' ');
    }
}
