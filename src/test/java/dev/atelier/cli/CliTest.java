package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI without an engine: command-line parsing, exit codes, error lines, tables, the credentials file. */
class CliTest {

    @TempDir
    Path home;

    @Test
    void aWrongCommandLineExitsWithTwoAndSaysWhatIsMissing() {
        CliRun.Result result = new CliRun(home).run("create", "--param", "cpu=2");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(result.err()).contains("Missing required options and parameters: '--template=TEMPLATE', 'NAME'");
        assertThat(new CliRun(home).run("frobnicate").exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(new CliRun(home).run("create", "x", "-t", "t", "--timeout", "soon").exitCode()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void withoutAnEngineOrCredentialsTheCommandsSaySoWithExitThree() {
        CliRun.Result result = new CliRun(home).run("ls");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(result.err()).isEqualTo("error: no engine given: run 'atelier login --url URL' or set ATELIER_URL\n");
        CliRun.Result noToken = new CliRun(home).env("ATELIER_URL", "http://localhost:9").run("ls");
        assertThat(noToken.exitCode()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(noToken.err()).contains("not signed in to http://localhost:9");
    }

    @Test
    void anUnreachableEngineIsExitEight() throws Exception {
        int closedPort;
        try (var socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        CliRun.Result result = new CliRun(home).env("ATELIER_URL", "http://127.0.0.1:" + closedPort)
                .env("ATELIER_TOKEN", "atl_x").run("ls");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(result.err()).startsWith("error: cannot reach http://127.0.0.1:" + closedPort);
    }

    @Test
    void aProblemBecomesTitleColonDetailWithTheStatusExitCode() {
        CliException conflict = EngineClient.refusal(409, "{\"type\":\"about:blank\",\"title\":\"Conflict\",\"status\":409,"
                + "\"detail\":\"workspace 1 is RUNNING\"}");
        assertThat(conflict.getMessage()).isEqualTo("Conflict: workspace 1 is RUNNING");
        assertThat(conflict.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(EngineClient.refusal(401, "{\"title\":\"Unauthorized\",\"detail\":\"bad token\"}").getMessage())
                .isEqualTo("Unauthorized: bad token (run 'atelier login', or set ATELIER_TOKEN)");
        assertThat(EngineClient.refusal(502, "<html>").getMessage()).isEqualTo("the engine answered HTTP 502");
        assertThat(EngineClient.refusal(502, "<html>").exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(EngineClient.refusal(403, "{\"title\":\"Forbidden\",\"detail\":\"x\\u001b[2Jy\"}").getMessage())
                .isEqualTo("Forbidden: x?[2Jy");
        assertThat(ExitCodes.forStatus(400)).isEqualTo(ExitCodes.INVALID);
        assertThat(ExitCodes.forStatus(404)).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(ExitCodes.forStatus(429)).isEqualTo(ExitCodes.UNAVAILABLE);
    }

    @Test
    void tablesAlignColumnsAndNeverPassControlCharactersToTheTerminal() {
        Output out = new Output(new CliEnvironment(java.util.Map.of(), home, new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(new java.io.StringWriter()), java.io.InputStream.nullInputStream(),
                java.io.OutputStream.nullOutputStream()), false);
        String text = out.table("NAME", "STATUS").row("web", "RUNNING").row("a-much-longer-name\u001b]0;pwned\u0007", null).render();
        assertThat(text).isEqualTo(String.format("%-30s%s%n%-30s%s%n%-30s%s%n", "NAME", "STATUS", "web", "RUNNING",
                "a-much-longer-name?]0;pwned?", "-"));
    }

    @Test
    void durationsAsPeopleTypeThem() {
        Durations durations = new Durations();
        assertThat(durations.convert("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(durations.convert("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(durations.convert("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(durations.convert("PT5M")).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void savedCredentialsArePrivateNeverPrintedAndSentOnlyToTheirEngine() throws Exception {
        CliEnvironment env = new CliEnvironment(java.util.Map.of(), home, new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(new java.io.StringWriter()), java.io.InputStream.nullInputStream(),
                java.io.OutputStream.nullOutputStream());
        Credentials.apiToken("http://engine:8080", "atl_secret").save(env);
        Path file = home.resolve(".config/atelier/credentials");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
        assertThat(Credentials.load(env).orElseThrow().token()).isEqualTo("atl_secret");
        assertThat(Credentials.load(env).orElseThrow().toString()).doesNotContain("atl_secret");
        JsonNode saved = EngineClient.JSON.readTree(file.toFile());
        assertThat(saved.path("url").asText()).isEqualTo("http://engine:8080");

        // ATELIER_URL pointing at another server: the saved token is not handed to it.
        CliRun.Result elsewhere = new CliRun(home).env("ATELIER_URL", "http://other:8080").run("ls");
        assertThat(elsewhere.exitCode()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(elsewhere.err()).contains("not signed in to http://other:8080");

        CliRun.Result out = new CliRun(home).run("logout");
        assertThat(out.exitCode()).isZero();
        assertThat(file).doesNotExist();
    }
}
