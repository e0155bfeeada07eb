package dev.atelier.cli;

import picocli.CommandLine.Option;

import java.time.Duration;

/** {@code --no-wait} and {@code --timeout} of the commands that start a transition. */
final class WaitOptions {

    @Option(names = "--no-wait", description = "Return once the engine accepted the request; do not wait for the result.")
    boolean noWait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.class,
            description = "How long to wait for the result (90s, 10m, 1h; default ${DEFAULT-VALUE}); then exit code 9.")
    Duration timeout;
}
