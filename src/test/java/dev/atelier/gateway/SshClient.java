package dev.atelier.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * OpenSSH's own client programs ({@code /usr/bin/ssh}, {@code sftp}, {@code ssh-keygen}) against the gateway. Public
 * for the providers' own gateway tests (kubernetes).
 */
public final class SshClient {

    private final int port;

    public SshClient(int port) {
        this.port = port;
    }

    public record Result(int exit, String out, String err) {
    }

    /** A new ed25519 key pair in {@code dir}; returns the private key's path ({@code .pub} beside it). */
    public static Path newKey(Path dir, String name) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path key = dir.resolve(name);
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.toString())
                .redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("ssh-keygen failed: " + new String(p.getInputStream().readAllBytes()));
        }
        return key;
    }

    public static String publicKey(Path key) throws IOException {
        return Files.readString(Path.of(key + ".pub")).trim();
    }

    List<String> options(Path key) {
        List<String> o = new ArrayList<>(List.of("-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20"));
        if (key != null) {
            o.addAll(List.of("-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no",
                    "-o", "KbdInteractiveAuthentication=no", "-i", key.toString()));
        }
        return o;
    }

    /** {@code ssh [extra...] -p PORT user@127.0.0.1 command...}, with {@code stdin} as its input. */
    public Result ssh(Path key, String user, String stdin, List<String> extra, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ssh"));
        cmd.addAll(options(key));
        cmd.addAll(extra);
        cmd.addAll(List.of("-p", Integer.toString(port), user + "@127.0.0.1"));
        cmd.addAll(List.of(command));
        return run(cmd, stdin, null);
    }

    Process start(Path key, String user, List<String> extra, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ssh"));
        cmd.addAll(options(key));
        cmd.addAll(extra);
        cmd.addAll(List.of("-p", Integer.toString(port), user + "@127.0.0.1"));
        cmd.addAll(List.of(command));
        return new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    }

    public Result sftp(Path key, String user, String batch) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("sftp"));
        cmd.addAll(options(key));
        cmd.addAll(List.of("-P", Integer.toString(port), "-b", "-", user + "@127.0.0.1"));
        return run(cmd, batch, null);
    }

    /** ssh with an API token as the password, through SSH_ASKPASS (OpenSSH reads passwords from no pipe). */
    Result sshWithToken(Path dir, String token, String user, String... command) throws Exception {
        Path askpass = dir.resolve("askpass.sh");
        Path secret = dir.resolve("token");
        Files.writeString(secret, token);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(askpass, "#!/bin/sh\ncat '" + secret + "'\n");
        Files.setPosixFilePermissions(askpass, PosixFilePermissions.fromString("rwx------"));
        List<String> cmd = new ArrayList<>(List.of("setsid", "-w", "ssh"));
        cmd.addAll(options(null));
        cmd.addAll(List.of("-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
                "-o", "NumberOfPasswordPrompts=1", "-p", Integer.toString(port), user + "@127.0.0.1"));
        cmd.addAll(List.of(command));
        return run(cmd, "", askpass);
    }

    static Result exec(List<String> cmd) throws Exception {
        return run(cmd, null, null);
    }

    private static Result run(List<String> cmd, String stdin, Path askpass) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(cmd);
        if (askpass != null) {
            builder.environment().put("SSH_ASKPASS", askpass.toString());
            builder.environment().put("SSH_ASKPASS_REQUIRE", "force");
            builder.environment().put("DISPLAY", ":0");
        }
        Process p = builder.start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd + "\nout: " + out.getNow("") + "\nerr: " + err.getNow(""));
        }
        return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    }

    static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
