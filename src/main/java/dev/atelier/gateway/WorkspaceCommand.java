package dev.atelier.gateway;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.WorkspaceShell;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.Signal;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One session channel's program (a shell, an exec'd command or the sftp subsystem), run inside the workspace through
 * its provider's {@link WorkspaceShell}; the gateway only pumps bytes between the channel and the process, passes
 * window changes on, and reports the exit status. Whether the session may run anything at all was decided when it
 * authenticated ({@link GatewaySessions}); a refused session hears the reason on stderr and gets exit status 1.
 */
final class WorkspaceCommand implements Command {

    /** Variables a client may send into the workspace (OpenSSH's default SendEnv). */
    private static final java.util.regex.Pattern PASSED_ENV = java.util.regex.Pattern.compile("LANG|LC_[A-Z]+");
    private static final Logger log = LoggerFactory.getLogger(WorkspaceCommand.class);

    private final GatewaySessions sessions;
    private final Function<String, WorkspaceShell> shells;
    /** The workspace as the engine knows it now (connection info, reported host keys), for the provider. */
    private final Function<Admission, WorkspaceShell.Target> targets;
    private final ExecutorService pumps;
    private final String type;
    private final List<String> command;
    private final boolean terminalAllowed;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private volatile WorkspaceShell.ShellProcess process;

    /**
     * @param type            the channel type for the audit trail: shell, exec or sftp
     * @param command         argv inside the workspace; empty: the login shell
     * @param terminalAllowed false for sftp (a binary protocol never gets a terminal)
     */
    WorkspaceCommand(GatewaySessions sessions, Function<String, WorkspaceShell> shells,
                     Function<Admission, WorkspaceShell.Target> targets, ExecutorService pumps,
                     String type, List<String> command, boolean terminalAllowed) {
        this.sessions = sessions;
        this.shells = shells;
        this.targets = targets;
        this.pumps = pumps;
        this.type = type;
        this.command = command;
        this.terminalAllowed = terminalAllowed;
    }

    @Override
    public void setInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
        this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
        this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) throws IOException {
        GatewaySessions.Open session = sessions.of(channel.getServerSession()).orElse(null);
        if (session == null) {
            refuse("this session is not admitted to a workspace");
            return;
        }
        if (session.refusal() != null) {
            refuse(session.refusal());
            return;
        }
        Admission admission = session.admission();
        WorkspaceShell shell = shells.apply(admission.provider());
        if (shell == null) {
            refuse("workspaces of provider '" + admission.provider() + "' offer no shell through the SSH gateway "
                    + "(docs/ssh.md); use the workspace's own connection info");
            return;
        }
        sessions.channelOpened(channel.getServerSession(), type);
        Map<String, String> vars = env.getEnv();
        WorkspaceShell.Terminal terminal = null;
        if (terminalAllowed && (vars.containsKey(Environment.ENV_COLUMNS) || !env.getPtyModes().isEmpty())) {
            terminal = new WorkspaceShell.Terminal(vars.getOrDefault(Environment.ENV_TERM, "xterm").replaceAll("[^A-Za-z0-9._+-]", ""),
                    number(vars.get(Environment.ENV_COLUMNS), 80), number(vars.get(Environment.ENV_LINES), 24));
        }
        Map<String, String> passed = new LinkedHashMap<>();
        vars.forEach((k, v) -> {
            if (PASSED_ENV.matcher(k).matches() && v.length() < 100 && v.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                passed.put(k, v);
            }
        });
        WorkspaceShell.ShellProcess started;
        try {
            started = shell.open(targets.apply(admission), new WorkspaceShell.ShellRequest(command, terminal, passed));
        } catch (ProviderException e) {
            refuse("could not start a process in workspace '" + admission.workspaceName() + "': " + e.getMessage());
            return;
        }
        process = started;
        if (terminal != null) {
            env.addSignalListener((ch, signal) -> started.resize(number(vars.get(Environment.ENV_COLUMNS), 80),
                    number(vars.get(Environment.ENV_LINES), 24)), Signal.WINCH);
        }
        boolean tty = terminal != null;
        CompletableFuture<Void> stdout = CompletableFuture.runAsync(() -> pump(started.stdout(), out), pumps);
        CompletableFuture<Void> stderr = started.stderr() == null ? CompletableFuture.completedFuture(null)
                : CompletableFuture.runAsync(() -> pump(started.stderr(), err), pumps);
        pumps.execute(() -> {
            pump(in, started.stdin());
            if (!tty) {
                // End of the client's input is end of the process's input (echo data | ssh ws cat).
                close(started.stdin());
            }
        });
        var serverSession = channel.getServerSession();
        started.exit().whenCompleteAsync((code, failure) -> {
            try {
                // The output a process wrote before it ended reaches the client before the exit status.
                CompletableFuture.allOf(stdout, stderr).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("gateway {}: output not drained: {}", type, e.toString());
            }
            if (!"sftp".equals(type)) {
                sessions.endedByStop(serverSession, code == null ? 255 : code).ifPresent(this::tell);
            }
            exit.onExit(code == null ? 255 : code);
        }, pumps);
    }

    @Override
    public void destroy(ChannelSession channel) {
        WorkspaceShell.ShellProcess p = process;
        if (p != null) {
            try {
                p.close();
            } catch (IOException e) {
                // already gone
            }
        }
    }

    private void refuse(String message) throws IOException {
        tell(message);
        exit.onExit(1, message);
    }

    private void tell(String message) {
        try {
            err.write(("atelier: " + message + "\r\n").getBytes(StandardCharsets.UTF_8));
            err.flush();
        } catch (IOException e) {
            // the channel is gone
        }
    }

    private static void pump(InputStream from, OutputStream to) {
        byte[] buffer = new byte[32 * 1024];
        try {
            int n;
            while ((n = from.read(buffer)) >= 0) {
                if (n > 0) {
                    to.write(buffer, 0, n);
                    to.flush();
                }
            }
        } catch (IOException e) {
            // one side closed: the channel or the process ends
        }
    }

    private static void close(OutputStream stream) {
        try {
            stream.close();
        } catch (IOException e) {
            // already closed
        }
    }

    private static int number(String value, int fallback) {
        try {
            // A client without a terminal of its own (ssh -tt < file) asks for 0x0: the usual 80x24 then.
            int n = value == null ? 0 : Integer.parseInt(value.trim());
            return n <= 0 ? fallback : Math.min(10_000, n);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
