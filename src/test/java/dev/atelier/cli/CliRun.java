package dev.atelier.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Runs the CLI in-process with a home directory, environment and stdin of the test's choosing. */
final class CliRun {

    record Result(int exitCode, String out, String err, byte[] stdout) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    private final Path home;
    private final Map<String, String> env = new HashMap<>();

    CliRun(Path home) {
        this.home = home;
        env.put("HOME", home.toString());
    }

    CliRun env(String name, String value) {
        env.put(name, value);
        return this;
    }

    Result run(String... args) {
        return runWithInput("", args);
    }

    /** A run on a thread of its own, whose standard error can be read while it runs (the device login's code). */
    record Running(StringWriter err, java.util.concurrent.CompletableFuture<Result> result) {
        String errSoFar() {
            return err.toString();
        }
    }

    Running start(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        java.util.concurrent.CompletableFuture<Result> result = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int code = Atelier.run(new CliEnvironment(Map.copyOf(env), home, new PrintWriter(out, true),
                    new PrintWriter(err, true), new ByteArrayInputStream(new byte[0]), raw), args);
            return new Result(code, out.toString(), err.toString(), raw.toByteArray());
        }, task -> {
            Thread thread = new Thread(task, "atelier-cli-" + String.join("-", args));
            thread.setDaemon(true);
            thread.start();
        });
        return new Running(err, result);
    }

    Result runWithInput(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        int code = Atelier.run(new CliEnvironment(Map.copyOf(env), home, new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), raw), args);
        return new Result(code, out.toString(), err.toString(), raw.toByteArray());
    }
}
