package dev.atelier.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a command sees of the outside world: environment variables, the home directory and the standard streams.
 * Passed in rather than read from {@link System}, so that tests run commands in-process with a temporary HOME.
 *
 * @param home   the directory that holds {@code .config/atelier} and {@code .ssh}: {@code $HOME} when set (the JVM's
 *               {@code user.home} ignores it), else {@code user.home}
 * @param stdout raw standard output, for {@code ssh --stdio}'s byte pipe
 */
public record CliEnvironment(Map<String, String> env, Path home, PrintWriter out, PrintWriter err, InputStream stdin,
                             OutputStream stdout) {

    public static CliEnvironment system() {
        Map<String, String> env = System.getenv();
        String home = env.getOrDefault("HOME", "");
        return new CliEnvironment(env, Path.of(home.isBlank() ? System.getProperty("user.home") : home),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true), System.in, System.out);
    }

    public String get(String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : value;
    }

    /** {@code ~/.config/atelier}: credentials and the gateway's known_hosts. */
    public Path configDir() {
        return home.resolve(".config").resolve("atelier");
    }
}
