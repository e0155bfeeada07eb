package dev.atelier.providers.local;

import dev.atelier.provider.ProviderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Ending a local workspace's processes. In a bubblewrap sandbox the workspace is a pid namespace: every process of
 * it is found by that namespace (not by sessions or process groups, which workspace code can leave with
 * {@code setsid}), asked to end with SIGTERM, and after the grace period the namespace's init gets SIGKILL, which
 * makes the kernel kill whatever is left. Without a sandbox only the process group can be signalled, and a process
 * that left it survives (docs/providers/local.md, "Threat model").
 */
final class WorkspaceProcesses {

    private static final Logger log = LoggerFactory.getLogger(WorkspaceProcesses.class);

    private WorkspaceProcesses() {
    }

    /** The process {@code pid}, if it runs and started when recorded (a reused pid is someone else). */
    static Optional<ProcessHandle> alive(Long pid, Instant startedAt) {
        if (pid == null || pid <= 1) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> startedAt == null || h.info()
                .startInstant().map(s -> Math.abs(Duration.between(s, startedAt).toMillis()) < 2000).orElse(true));
    }

    /**
     * Whether anything of the workspace still runs. A sandbox's init alone runs nothing: it ends by itself as soon as
     * it has reaped the last process.
     */
    static boolean running(LocalState.ProcessState state) {
        if (state.pidNamespace() != null) {
            long init = state.initPid() == null ? -1 : state.initPid();
            return state.handle().isPresent()
                    || members(state.pidNamespace()).stream().anyMatch(p -> p.pid() != init);
        }
        return state.handle().isPresent();
    }

    /** SIGTERM to everything, SIGKILL after {@code grace}; returns when nothing of the workspace runs any more. */
    static void terminate(LocalState.ProcessState state, Duration grace) {
        if (state.pidNamespace() != null) {
            terminateNamespace(state, grace);
        } else if (state.handle().isPresent()) {
            terminateGroup(state.pid(), grace);
        }
    }

    private static void terminateNamespace(LocalState.ProcessState state, Duration grace) {
        String namespace = state.pidNamespace();
        if (namespace.equals(ownNamespace())) {
            throw new IllegalStateException("refusing to end the engine's own pid namespace " + namespace);
        }
        Optional<ProcessHandle> init = alive(state.initPid(), state.initStartedAt())
                .filter(h -> namespace.equals(namespaceOf(h.pid())));
        List<ProcessHandle> members = members(namespace);
        List<ProcessHandle> workload = members.stream().filter(p -> init.isEmpty() || p.pid() != init.get().pid()).toList();
        workload.forEach(ProcessHandle::destroy);
        if (!awaitGone(namespace, init, grace)) {
            log.info("pid namespace {} did not end within {}; killing it", namespace, grace);
        }
        // SIGKILL to the namespace's init ends every process in it; the others too, should init be gone already.
        init.ifPresent(ProcessHandle::destroyForcibly);
        members(namespace).forEach(ProcessHandle::destroyForcibly);
        state.handle().ifPresent(ProcessHandle::destroyForcibly);
        if (!awaitGone(namespace, Optional.empty(), Duration.ofSeconds(5))) {
            throw ProviderException.retryable("processes of pid namespace " + namespace + " did not die after SIGKILL",
                    null);
        }
    }

    /** True once no process but (optionally) {@code except} is left in the namespace. */
    private static boolean awaitGone(String namespace, Optional<ProcessHandle> except, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean left = members(namespace).stream().anyMatch(p -> except.isEmpty() || p.pid() != except.get().pid());
            if (!left) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Every live (not zombie) process whose pid namespace is {@code namespace}, as seen from the host. */
    static List<ProcessHandle> members(String namespace) {
        List<ProcessHandle> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            entries.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .forEach(n -> {
                        long pid = Long.parseLong(n);
                        if (namespace.equals(namespaceOf(pid))) {
                            ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(found::add);
                        }
                    });
        } catch (IOException e) {
            throw ProviderException.retryable("could not list processes: " + e.getMessage(), e);
        }
        return found;
    }

    static String namespaceOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "pid")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null; // gone, a zombie, or not ours to look at
        }
    }

    private static String ownNamespace() {
        return namespaceOf(ProcessHandle.current().pid());
    }

    /** SIGTERM to the whole process group, SIGKILL after the grace period; returns when the whole tree is gone. */
    private static void terminateGroup(long group, Duration grace) {
        Optional<ProcessHandle> leader = ProcessHandle.of(group);
        List<ProcessHandle> tree = new ArrayList<>(leader.map(h -> h.descendants().toList()).orElse(List.of()));
        leader.ifPresent(tree::add);
        signalGroup("TERM", group);
        if (!awaitExit(tree, grace)) {
            log.info("process group {} did not stop within {}; killing it", group, grace);
        }
        signalGroup("KILL", group);
        if (!awaitExit(tree, Duration.ofSeconds(5))) {
            throw ProviderException.retryable("processes of group " + group + " did not die after SIGKILL", null);
        }
    }

    private static boolean awaitExit(List<ProcessHandle> processes, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle p : processes) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 && p.isAlive()) {
                    return false;
                }
                p.onExit().get(Math.max(left, 0), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                return false;
            } catch (java.util.concurrent.ExecutionException e) {
                return !p.isAlive();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static void signalGroup(String signal, long group) {
        try {
            // The pid is our own number from our own state file; no shell is involved.
            new ProcessBuilder("kill", "-" + signal, "--", "-" + group).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw ProviderException.retryable("could not signal process group " + group, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
