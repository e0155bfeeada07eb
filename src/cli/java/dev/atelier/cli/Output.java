package dev.atelier.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Results for people (aligned tables) or for scripts ({@code --json}: the engine's JSON, pretty-printed, one document
 * per command). Progress and hints go to stderr so that stdout stays parseable.
 */
public final class Output {

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;

    public Output(CliEnvironment env, boolean json) {
        this.out = env.out();
        this.err = env.err();
        this.json = json;
    }

    public boolean json() {
        return json;
    }

    public void json(JsonNode node) {
        try {
            out.println(EngineClient.JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out.flush();
    }

    public void line(String text) {
        out.println(text);
        out.flush();
    }

    /** A progress or status line for people, on stderr. */
    public void progress(String text) {
        err.println(text);
        err.flush();
    }

    public Table table(String... headers) {
        return new Table(headers);
    }

    /** Columns padded to the widest cell; cells are made printable ({@link Text#cell}). */
    public final class Table {

        private final List<String[]> rows = new ArrayList<>();
        private final String[] headers;

        Table(String[] headers) {
            this.headers = headers;
        }

        public Table row(Object... cells) {
            String[] row = Arrays.stream(cells).map(c -> c == null ? "-" : Text.cell(c.toString()))
                    .map(s -> s.isEmpty() ? "-" : s).toArray(String[]::new);
            rows.add(row);
            return this;
        }

        public void print() {
            out.print(render());
            out.flush();
        }

        String render() {
            int[] widths = new int[headers.length];
            for (int i = 0; i < headers.length; i++) {
                widths[i] = headers[i].length();
                for (String[] row : rows) {
                    widths[i] = Math.max(widths[i], row[i].length());
                }
            }
            StringBuilder text = new StringBuilder();
            append(text, headers, widths);
            rows.forEach(row -> append(text, row, widths));
            return text.toString();
        }

        private static void append(StringBuilder text, String[] cells, int[] widths) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < cells.length; i++) {
                line.append(cells[i]);
                if (i < cells.length - 1) {
                    line.append(" ".repeat(widths[i] - cells[i].length() + 2));
                }
            }
            text.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
