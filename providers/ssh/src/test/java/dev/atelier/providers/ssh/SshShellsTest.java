package dev.atelier.providers.ssh;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The remote command line the hop sends, run by a real POSIX shell as sshd would run it. */
class SshShellsTest {

    @Test
    void everyArgumentReachesTheProgramAsItWasTypedNothingIsInterpreted() throws Exception {
        List<String> argv = List.of("printf", "[%s]", "a b", "it's", "$(touch /tmp/atelier-pwned)", "`id`", "\"q\"",
                "*", "semi;colon", "");
        String line = SshShells.commandLine(null, argv, Map.of("LANG", "C.UTF-8", "BAD NAME", "x"));

        assertThat(line).startsWith("exec env 'LANG=C.UTF-8' 'printf'").doesNotContain("BAD NAME");
        assertThat(sh(line)).isEqualTo("[a b][it's][$(touch /tmp/atelier-pwned)][`id`][\"q\"][*][semi;colon][]");
    }

    @Test
    void aDirectoryIsEnteredFirstAndNoCommandMeansTheLoginShell() throws Exception {
        assertThat(sh(SshShells.commandLine("/tmp", List.of("pwd"), Map.of()))).isEqualTo("/tmp\n");
        assertThat(SshShells.commandLine("work/ws-1", List.of(), Map.of()))
                .isEqualTo("cd -- 'work/ws-1' && exec \"${SHELL:-/bin/sh}\" -l");
        assertThat(SshShells.commandLine(null, List.of(), Map.of("TERM", "xterm"))).as("a shell channel").isNull();
    }

    private static String sh(String line) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", line).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
