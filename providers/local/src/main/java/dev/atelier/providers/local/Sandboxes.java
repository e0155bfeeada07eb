package dev.atelier.providers.local;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How local workspaces are isolated: bubblewrap where it works, else (visibly: workspace view, connection info,
 * health and the start-up log say {@code sandbox: none}) a plain process group. Either way, an engine running as
 * root never runs workspace code as root: it runs as {@link Identity} (an unprivileged uid of its own).
 */
final class Sandboxes {

    /** Where the engine's files for one launch appear inside a bubblewrap sandbox. */
    static final String RUN = "/run/atelier";
    /** Default uid and gid of workspace code when the engine runs as root: used by nothing else on a host. */
    static final int DEFAULT_WORKSPACE_ID = 61000;
    private static final Logger log = LoggerFactory.getLogger(Sandboxes.class);
    /** The parts of the host's /etc a workspace needs: name resolution, CA certificates, tools' own settings. */
    private static final List<String> ETC = List.of("alternatives", "resolv.conf", "hosts", "nsswitch.conf", "host.conf",
            "gai.conf", "services", "protocols", "ssl/certs", "ssl/openssl.cnf", "ca-certificates.conf",
            "pki/tls/certs", "pki/ca-trust/extracted", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
            "timezone", "mime.types", "os-release", "debian_version", "terminfo", "perl", "ssh/ssh_config",
            "ssh/ssh_config.d", "gitconfig", "bash.bashrc", "profile", "shells", "inputrc");
    /** Top-level links or directories of a merged-/usr or classic layout. */
    private static final List<String> ROOT_DIRS = List.of("bin", "sbin", "lib", "lib64", "lib32", "libx32");

    private Sandboxes() {
    }

    /** The uid and gid workspace code runs as when the engine can choose (it runs as root). */
    record Identity(int uid, int gid) {
    }

    static Sandbox choose(LocalProviderProperties.Sandbox wanted) {
        return choose(wanted, new Identity(DEFAULT_WORKSPACE_ID, DEFAULT_WORKSPACE_ID));
    }

    static Sandbox choose(LocalProviderProperties.Sandbox wanted, Identity identity) {
        boolean root = engineUid() == 0;
        if (root && (identity.uid() == 0 || identity.gid() == 0)) {
            throw new IllegalStateException("atelier.providers.local.workspace-uid and workspace-gid must not be 0: "
                    + "workspace code never runs as root");
        }
        Identity drop = root ? identity : null;
        if (wanted == LocalProviderProperties.Sandbox.NONE) {
            log.warn("local provider: sandbox none (atelier.providers.local.sandbox=none): local workspaces run WITHOUT "
                    + "isolation, seeing the host's files and network{}", root ? ", as uid " + identity.uid() : "");
            return new ProcessGroupSandbox(drop, "atelier.providers.local.sandbox=none");
        }
        BubblewrapSandbox bwrap = new BubblewrapSandbox(drop);
        String problem = bubblewrapProblem(bwrap);
        if (problem == null) {
            return bwrap;
        }
        if (wanted == LocalProviderProperties.Sandbox.BWRAP) {
            throw new IllegalStateException("atelier.providers.local.sandbox=bwrap but bubblewrap does not work here: "
                    + problem);
        }
        log.warn("local provider: bubblewrap is not usable ({}); local workspaces run as plain process groups "
                + "WITHOUT isolation (workspace view and health say sandbox: none). Install bubblewrap "
                + "(apt-get install bubblewrap), or set atelier.providers.local.sandbox=bwrap to refuse to run without it.",
                problem);
        return new ProcessGroupSandbox(drop, problem);
    }

    /** @return why bwrap cannot run a sandbox here, or null when it can */
    static String bubblewrapProblem() {
        return bubblewrapProblem(new BubblewrapSandbox(engineUid() == 0
                ? new Identity(DEFAULT_WORKSPACE_ID, DEFAULT_WORKSPACE_ID) : null));
    }

    private static String bubblewrapProblem(BubblewrapSandbox bwrap) {
        try {
            List<String> command = new ArrayList<>(bwrap.namespaces(false));
            command.addAll(bwrap.system());
            command.add("--");
            command.addAll(dropPrivileges(bwrap.identity()));
            command.add("/bin/true");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "bwrap did not finish a test run within 10 s";
            }
            if (process.exitValue() != 0) {
                return "bwrap test run failed: " + new String(process.getInputStream().readAllBytes()).trim();
            }
            return null;
        } catch (IOException e) {
            return "bwrap is not installed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    static int engineUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    /** One launch: where the workspace and the engine's files for it are, and what it asked for. */
    record Launch(Path workspace, Path state, boolean hostNetwork, boolean agent) {
    }

    /** Builds the command line that starts a workspace's processes. */
    interface Sandbox {
        /** {@code bwrap} or {@code none}, as the workspace view, connection info and health show it. */
        String name();

        /** Why there is no sandbox (null with one). */
        String reason();

        /** The uid/gid workspace code runs as when the engine runs as root; null: the engine's own. */
        Identity identity();

        List<String> command(Launch launch);

        /** Where the workspace directory appears to processes inside. */
        String workspacePath(Path directory);

        /** Where the agent's Unix socket to the engine appears inside; null: the agent uses TCP. */
        String agentSocket();
    }

    /**
     * No isolation: a process group of its own (stop signals the group). The start-up script and the agent are
     * handed over as open files ({@code /dev/fd/N}), so the engine's state directory stays closed to the uid.
     */
    static final class ProcessGroupSandbox implements Sandbox {
        private final Identity identity;
        private final String reason;

        ProcessGroupSandbox(Identity identity, String reason) {
            this.identity = identity;
            this.reason = reason;
        }

        @Override
        public String name() {
            return "none";
        }

        @Override
        public String reason() {
            return reason;
        }

        @Override
        public Identity identity() {
            return identity;
        }

        @Override
        public List<String> command(Launch launch) {
            List<String> command = new ArrayList<>(List.of("setsid", "/bin/sh", "-c",
                    launch.agent() ? "exec 4<\"$1\" 8<\"$2\" && shift 2 && exec \"$@\"" : "exec 4<\"$1\" && shift && exec \"$@\"",
                    "atelier-launch", launch.state().resolve(LocalState.STARTUP).toString()));
            if (launch.agent()) {
                command.add(launch.state().resolve(LocalState.AGENT).toString());
            }
            command.addAll(dropPrivileges(identity));
            command.addAll(List.of("/bin/sh", "-c", (launch.agent() ? "sh /dev/fd/8 >/dev/null 2>&1 & " : "")
                    + "exec sh /dev/fd/4"));
            return command;
        }

        @Override
        public String workspacePath(Path directory) {
            return directory.toString();
        }

        @Override
        public String agentSocket() {
            return null;
        }
    }

    /**
     * Bubblewrap: a read-only /usr, only the needed parts of /etc (with a passwd and group of its own), private
     * /tmp, /proc and /dev, the workspace directory at /workspace, and own pid, ipc, uts, cgroup and (unless the
     * template asks for the host network) network namespaces. The engine's state directory is not mounted: the
     * start-up script, the agent and the user database are copied in from open files, and only the directory with
     * the agent's socket is bound (read-only). bwrap's own init is pid 1 of the sandbox, runs as the engine's user
     * and is what stop kills, taking every process of the pid namespace with it, whatever they did to their
     * sessions. As root, bwrap runs privileged without a user namespace and {@code setpriv} drops to the
     * workspace's uid before any workspace code runs; as another user bwrap maps that user into a user namespace.
     */
    static final class BubblewrapSandbox implements Sandbox {
        private final Identity identity;

        BubblewrapSandbox(Identity identity) {
            this.identity = identity;
        }

        @Override
        public String name() {
            return "bwrap";
        }

        @Override
        public String reason() {
            return null;
        }

        @Override
        public Identity identity() {
            return identity;
        }

        @Override
        public List<String> command(Launch launch) {
            Path state = launch.state();
            List<String> command = new ArrayList<>(List.of("setsid", "/bin/sh", "-c",
                    "exec 4<\"$1\" 5<\"$2\" 6<\"$3\" 7>\"$4\"" + (launch.agent() ? " 8<\"$5\" && shift 5" : " && shift 4")
                            + " && exec \"$@\"",
                    "atelier-launch", state.resolve(LocalState.STARTUP).toString(),
                    state.resolve(LocalState.PASSWD).toString(), state.resolve(LocalState.GROUP).toString(),
                    state.resolve(LocalState.SANDBOX_INFO).toString()));
            if (launch.agent()) {
                command.add(state.resolve(LocalState.AGENT).toString());
            }
            command.addAll(namespaces(launch.hostNetwork()));
            command.addAll(system());
            command.addAll(List.of(
                    "--perms", "0444", "--ro-bind-data", "5", "/etc/passwd",
                    "--perms", "0444", "--ro-bind-data", "6", "/etc/group",
                    "--bind", launch.workspace().toString(), "/workspace",
                    "--perms", "0444", "--ro-bind-data", "4", RUN + "/startup.sh"));
            if (launch.agent()) {
                command.addAll(List.of("--perms", "0444", "--ro-bind-data", "8", RUN + "/agent.sh",
                        "--ro-bind", state.resolve(LocalState.RELAY_DIR).toString(), RUN + "/engine"));
            }
            command.addAll(List.of("--info-fd", "7", "--hostname", "workspace", "--"));
            command.addAll(dropPrivileges(identity));
            command.addAll(List.of("/bin/sh", "-c", "exec 3<&- 4<&- 5<&- 6<&- 7>&- 8<&- 9<&-; cd /workspace || exit 126; "
                    + (launch.agent() ? "sh " + RUN + "/agent.sh >/dev/null 2>&1 & " : "")
                    + "exec sh " + RUN + "/startup.sh"));
            return command;
        }

        /** The namespaces; no user namespace as root (setpriv drops to the workspace's uid instead). */
        List<String> namespaces(boolean hostNetwork) {
            List<String> args = new ArrayList<>(List.of("bwrap"));
            if (identity != null) {
                args.addAll(List.of("--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"));
                if (!hostNetwork) {
                    args.add("--unshare-net");
                }
                args.addAll(List.of("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"));
            } else {
                args.addAll(List.of("--unshare-all", "--unshare-user", "--disable-userns"));
                if (hostNetwork) {
                    args.add("--share-net");
                }
            }
            args.add("--new-session");
            return args;
        }

        /** The file system every sandbox sees. */
        List<String> system() {
            List<String> args = new ArrayList<>(List.of("--ro-bind", "/usr", "/usr"));
            for (String dir : ROOT_DIRS) {
                Path host = Path.of("/", dir);
                if (Files.isSymbolicLink(host)) {
                    try {
                        args.addAll(List.of("--symlink", Files.readSymbolicLink(host).toString(), host.toString()));
                    } catch (IOException e) {
                        // unreadable link: leave it out
                    }
                } else if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
                    args.addAll(List.of("--ro-bind", host.toString(), host.toString()));
                }
            }
            args.addAll(List.of("--proc", "/proc", "--dev", "/dev",
                    "--perms", "1777", "--tmpfs", "/tmp",
                    "--perms", "0755", "--dir", "/var", "--perms", "1777", "--tmpfs", "/var/tmp",
                    "--perms", "0755", "--dir", "/etc"));
            for (String entry : ETC) {
                args.addAll(List.of("--ro-bind-try", "/etc/" + entry, "/etc/" + entry));
            }
            return args;
        }

        @Override
        public String workspacePath(Path directory) {
            return "/workspace";
        }

        @Override
        public String agentSocket() {
            return RUN + "/engine/" + AgentRelay.SOCKET;
        }
    }

    /** As root: switch to the workspace's uid and gid, no supplementary groups, no capabilities, no new privileges. */
    private static List<String> dropPrivileges(Identity identity) {
        if (identity == null) {
            return List.of();
        }
        return List.of("setpriv", "--reuid", Integer.toString(identity.uid()), "--regid", Integer.toString(identity.gid()),
                "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--");
    }
}
