package dev.atelier.providers.local;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Chooses how local workspaces are isolated: bubblewrap where it works, else a plain process group. */
final class Sandboxes {

    private static final Logger log = LoggerFactory.getLogger(Sandboxes.class);

    private Sandboxes() {
    }

    static Sandbox choose(LocalProviderProperties.Sandbox wanted) {
        if (wanted == LocalProviderProperties.Sandbox.NONE) {
            return new ProcessGroupSandbox();
        }
        String problem = bubblewrapProblem();
        if (problem == null) {
            return new BubblewrapSandbox();
        }
        if (wanted == LocalProviderProperties.Sandbox.BWRAP) {
            throw new IllegalStateException("atelier.providers.local.sandbox=bwrap but bubblewrap does not work here: "
                    + problem);
        }
        log.warn("local provider: bubblewrap is not usable ({}); local workspaces run as plain process groups "
                + "WITHOUT isolation. Install bubblewrap (apt-get install bubblewrap) to sandbox them.", problem);
        return new ProcessGroupSandbox();
    }

    /** @return why bwrap cannot run a sandbox here, or null when it can */
    static String bubblewrapProblem() {
        try {
            Process probe = new ProcessBuilder(new BubblewrapSandbox().command(Path.of("/tmp"), List.of("/bin/true"), true))
                    .redirectErrorStream(true).start();
            if (!probe.waitFor(10, TimeUnit.SECONDS)) {
                probe.destroyForcibly();
                return "bwrap did not finish a test run within 10 s";
            }
            if (probe.exitValue() != 0) {
                return "bwrap test run failed: " + new String(probe.getInputStream().readAllBytes()).trim();
            }
            return null;
        } catch (java.io.IOException e) {
            return "bwrap is not installed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Builds the command line that runs {@code command} for a workspace whose directory is {@code directory}. */
    interface Sandbox {
        String name();

        List<String> command(Path directory, List<String> command, boolean network);

        /** Where the workspace directory appears to processes inside the sandbox. */
        String workspacePath(Path directory);
    }

    static final class ProcessGroupSandbox implements Sandbox {
        @Override
        public String name() {
            return "none";
        }

        @Override
        public List<String> command(Path directory, List<String> command, boolean network) {
            return command;
        }

        @Override
        public String workspacePath(Path directory) {
            return directory.toString();
        }
    }

    /** Read-only system, private /tmp, the workspace directory at /workspace, own pid/ipc/uts (and net) namespaces. */
    static final class BubblewrapSandbox implements Sandbox {
        @Override
        public String name() {
            return "bwrap";
        }

        @Override
        public List<String> command(Path directory, List<String> command, boolean network) {
            List<String> args = new ArrayList<>(List.of("bwrap",
                    "--ro-bind", "/usr", "/usr",
                    "--symlink", "usr/bin", "/bin",
                    "--symlink", "usr/sbin", "/sbin",
                    "--symlink", "usr/lib", "/lib",
                    "--symlink", "usr/lib64", "/lib64",
                    "--ro-bind", "/etc", "/etc",
                    "--proc", "/proc",
                    "--dev", "/dev",
                    "--tmpfs", "/tmp",
                    "--bind", directory.toString(), "/workspace",
                    "--unshare-all"));
            if (network) {
                args.add("--share-net");
            }
            args.addAll(List.of("--hostname", "workspace", "--chdir", "/workspace", "--"));
            args.addAll(command);
            return args;
        }

        @Override
        public String workspacePath(Path directory) {
            return "/workspace";
        }
    }
}
