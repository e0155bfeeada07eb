package dev.atelier.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code atelier}: the engine's API from a terminal or a script (docs/cli.md). Each subcommand is one class; they share
 * {@link AtelierCommand}'s engine address, credentials and output. Runs outside the engine, with picocli and Jackson
 * only (target/atelier-cli.jar).
 */
@Command(name = "atelier", mixinStandardHelpOptions = true, versionProvider = Atelier.Version.class,
        description = "Workspaces of an Atelier engine from the command line.%n"
                + "The engine is ATELIER_URL (or the URL saved by 'atelier login'); the token ATELIER_TOKEN "
                + "(or the one saved by 'atelier login').",
        subcommands = {LoginCommand.class, LogoutCommand.class, TemplatesCommand.class, ListCommand.class,
                CreateCommand.class, StartCommand.class, StopCommand.class, DeleteCommand.class, SshCommand.class,
                ConfigSshCommand.class, PortForwardCommand.class, LogsCommand.class, AuditCommand.class,
                CostsCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:done",
                "1:other error",
                "2:wrong command line",
                "3:not signed in, or the credentials were refused (401)",
                "4:not allowed (403)",
                "5:not found (404)",
                "6:wrong state for this (409)",
                "7:input refused by the engine (400/422)",
                "8:engine unreachable, busy (429) or failing (5xx)",
                "9:timed out waiting",
                "10:the workspace FAILED while waiting",
                "ssh, port-forward: the exit status of ssh"})
public class Atelier implements Runnable {

    final CliEnvironment env;

    public Atelier(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is needed (atelier --help)");
    }

    public static void main(String[] args) {
        System.exit(run(CliEnvironment.system(), args));
    }

    /** Runs one command line and returns its exit code ({@link ExitCodes}); errors are printed as {@code error: ...}. */
    public static int run(CliEnvironment env, String... args) {
        CommandLine cli = new CommandLine(new Atelier(env));
        cli.setOut(env.out());
        cli.setErr(env.err());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof CliException refused) {
                env.err().println("error: " + refused.getMessage());
                env.err().flush();
                return refused.exitCode();
            }
            env.err().println("error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            env.err().flush();
            return ExitCodes.ERROR;
        });
        int code = cli.execute(args);
        env.out().flush();
        env.err().flush();
        return code;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Atelier.class.getPackage().getImplementationVersion();
            return new String[]{"atelier " + (version == null ? "(development build)" : version)};
        }
    }
}
