package dev.atelier.provider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Round trips through a real {@code /bin/sh}: what comes out must be exactly what was quoted. */
class ShellQuotingTest {

    /** Strings that would run something, split, glob or change meaning if any of them reached sh unquoted. */
    static final List<String> HOSTILE = List.of(
            "",
            "plain",
            "'",
            "''",
            "it's",
            "'\\''",
            "'\"'\"'",
            "\"double\"",
            "$(touch pwned)",
            "`touch pwned`",
            "$HOME ${IFS} $0 $1 $@ $$",
            "a\nb\n",
            "\n",
            "tab\there\rcr",
            "*",
            "/*",
            "?[a-z]{a,b}~",
            "-n",
            "--",
            "-e \\n",
            "trailing backslash\\",
            "; rm -rf / & | > out < in # comment !",
            "  leading and trailing spaces  ",
            "%s %d %%");

    @Test
    void everyHostileStringComesBackFromShExactlyAsOneWord(@TempDir Path dir) throws Exception {
        for (String value : HOSTILE) {
            // printf's format is fixed, the value is its only argument: brackets show it stayed one word.
            String out = sh(dir, "printf '[%s]' " + ShellQuoting.quote(value));
            assertThat(out).as("round trip of %s", List.of(value)).isEqualTo("[" + value + "]");
        }
        assertThat(dir.resolve("pwned")).as("no command substitution ran").doesNotExist();
    }

    @Test
    void quotedWordsSideBySideStayApart(@TempDir Path dir) throws Exception {
        StringBuilder command = new StringBuilder("printf '[%s]'");
        StringBuilder expected = new StringBuilder();
        for (String value : HOSTILE) {
            command.append(' ').append(ShellQuoting.quote(value));
            expected.append('[').append(value).append(']');
        }
        assertThat(sh(dir, command.toString())).isEqualTo(expected.toString());
        assertThat(dir.resolve("pwned")).doesNotExist();
    }

    @Test
    void aSourcedFileOfAssignmentsGivesBackEveryValue(@TempDir Path dir) throws Exception {
        // The providers' environment files: NAME='value' lines that sh sources, here also with non-ASCII text.
        List<String> values = new ArrayList<>(HOSTILE);
        values.add("café ✓ 日本");
        StringBuilder file = new StringBuilder();
        StringBuilder print = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            file.append("V").append(i).append('=').append(ShellQuoting.quote(values.get(i))).append('\n');
            print.append(" \"$V").append(i).append('"');
            expected.append('[').append(values.get(i)).append(']');
        }
        Files.writeString(dir.resolve("env"), file, StandardCharsets.UTF_8);
        assertThat(sh(dir, ". ./env && printf '[%s]'" + print)).isEqualTo(expected.toString());
        assertThat(dir.resolve("pwned")).doesNotExist();
    }

    @Test
    void aNulIsRefusedPermanentlyWithoutEchoingTheValue() {
        assertThatThrownBy(() -> ShellQuoting.quote("secret-token\0tail"))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("NUL")
                .message().doesNotContain("secret-token");
    }

    @Test
    void theFormIsSingleQuotesWithEachQuoteClosedAndReopened() {
        assertThat(ShellQuoting.quote("")).isEqualTo("''");
        assertThat(ShellQuoting.quote("it's")).isEqualTo("'it'\"'\"'s'");
        assertThat(ShellQuoting.quote("$x")).isEqualTo("'$x'");
    }

    private static String sh(Path dir, String command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("/bin/sh", "-c", command).directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("sh exit status for %s", List.of(command)).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }
}
