package dev.atelier.providers.local;

import dev.atelier.provider.SpecEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The embedded default provider: a workspace is a directory under the data dir and a process tree started from
 * the template's start-up script, in its own session (so the whole tree can be signalled) and, where bubblewrap
 * works, in its own namespaces. Stop ends the tree and keeps the directory; delete removes both. State lives in
 * {@code <dir>/.atelier/} so that an engine restart finds running workspaces again.
 */
public class LocalWorkspaceProvider implements WorkspaceProvider {

    static final String NAME = "local";
    static final String DEFAULT_SCRIPT = "while true; do sleep 3600; done\n";
    private static final Logger log = LoggerFactory.getLogger(LocalWorkspaceProvider.class);
    private static final Pattern WORKSPACE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,63}");
    private static final Set<String> SPEC_KEYS = Set.of("startupScript", "env", "network");
    private static final int MAX_SCRIPT = 64 * 1024;

    private final Path root;
    private final Sandboxes.Sandbox sandbox;
    private final Duration readinessDelay;
    private final Duration stopGracePeriod;
    private final ObjectMapper json = new ObjectMapper().findAndRegisterModules();
    /** Processes this engine started, for their exit code; after a restart the state file is all we have. */
    private final Map<String, Process> children = new ConcurrentHashMap<>();

    public LocalWorkspaceProvider(Path root, Sandboxes.Sandbox sandbox, Duration readinessDelay,
                                  Duration stopGracePeriod) {
        this.root = root.toAbsolutePath().normalize();
        this.sandbox = sandbox;
        this.readinessDelay = readinessDelay;
        this.stopGracePeriod = stopGracePeriod;
        log.info("local provider: workspaces under {}, sandbox {}", this.root, sandbox.name());
    }

    @Override
    public String name() {
        return NAME;
    }

    public String sandboxName() {
        return sandbox.name();
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        List<String> problems = new ArrayList<>();
        spec.keySet().stream().filter(k -> !SPEC_KEYS.contains(k)).sorted()
                .forEach(k -> problems.add("unknown key '" + k + "' for provider local (known: startupScript, env, network)"));
        Object script = spec.get("startupScript");
        if (script != null && !(script instanceof String)) {
            problems.add("startupScript must be a string (a shell script)");
        } else if (script != null && ((String) script).length() > MAX_SCRIPT) {
            problems.add("startupScript is longer than " + MAX_SCRIPT + " characters");
        }
        SpecEnvironment.check(spec.get("env"), "", "", Set.of(), problems);
        Object network = spec.get("network");
        if (network != null && !(network instanceof Boolean)) {
            problems.add("network must be true or false");
        }
        return problems;
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        return launch(request);
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        return launch(request);
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        Path dir = directory(request.workspaceId());
        Optional<ProcessState> state = readState(dir);
        if (state.isEmpty() || !state.get().key().equals(operationId)) {
            throw ProviderException.permanent("local workspace " + request.workspaceId() + " lost its start-up process");
        }
        Optional<ProcessHandle> process = state.get().handle();
        if (process.isPresent()) {
            if (Duration.between(state.get().readySince(), Instant.now()).compareTo(readinessDelay) >= 0) {
                return ProviderOperation.done(dir.toString(), connection(dir, state.get()));
            }
            return ProviderOperation.inProgress(dir.toString(), operationId, readinessDelay);
        }
        Process child = children.get(request.workspaceId());
        Integer exit = child != null && child.pid() == state.get().pid() ? exitCode(child) : null;
        if (exit != null && exit == 0) {
            // A script that finished cleanly leaves a workspace with no long-running process: still usable.
            return ProviderOperation.done(dir.toString(), connection(dir, state.get()));
        }
        throw ProviderException.permanent("start-up script " + (exit == null ? "ended" : "exited with code " + exit)
                + "; last output: " + tail(dir.resolve(".atelier/startup.log")));
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        Path dir = directory(request.workspaceId());
        terminate(dir);
        return ProviderOperation.done(dir.toString(), Map.of());
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        Path dir = directory(request.workspaceId());
        terminate(dir);
        try {
            deleteTree(dir);
        } catch (IOException e) {
            throw ProviderException.retryable("could not remove " + dir + ": " + e.getMessage(), e);
        }
        children.remove(request.workspaceId());
        return ProviderOperation.done(null, Map.of());
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        Path dir = directory(request.workspaceId());
        if (!Files.isDirectory(dir)) {
            return new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of());
        }
        Optional<ProcessState> state = readState(dir);
        boolean running = state.flatMap(ProcessState::handle).isPresent();
        return new ResourceDescription(dir.toString(),
                running ? ResourceDescription.State.RUNNING : ResourceDescription.State.STOPPED,
                readLabels(dir), state.map(s -> connection(dir, s)).orElse(Map.of()));
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(Files::isDirectory)
                    .filter(d -> readLabels(d).entrySet().containsAll(labels.entrySet()))
                    .map(d -> describe(new ProvisionRequest(d.getFileName().toString(), 0, null, null, null, null, null,
                            null)))
                    .toList();
        } catch (IOException e) {
            throw ProviderException.retryable("could not list " + root + ": " + e.getMessage(), e);
        }
    }

    private synchronized ProviderOperation launch(ProvisionRequest request) {
        Path dir = directory(request.workspaceId());
        String key = request.idempotencyKey();
        Optional<ProcessState> existing = readState(dir);
        if (existing.isPresent() && existing.get().key().equals(key) && existing.get().handle().isPresent()) {
            // The same build asked again (a retry after a crash): the process is already there.
            return ProviderOperation.inProgress(dir.toString(), key, readinessDelay);
        }
        terminate(dir);
        try {
            Path meta = Files.createDirectories(dir.resolve(".atelier"));
            String script = (String) request.spec().getOrDefault("startupScript", DEFAULT_SCRIPT);
            Files.writeString(meta.resolve("startup.sh"), script, StandardCharsets.UTF_8);
            json.writeValue(meta.resolve("labels.json").toFile(), request.labels());
            boolean network = !Boolean.FALSE.equals(request.spec().get("network"));
            String inside = sandbox.workspacePath(dir);
            List<String> command = new ArrayList<>(List.of("setsid"));
            List<String> workload = List.of("/bin/sh", inside + "/.atelier/startup.sh");
            if (request.agent() != null) {
                // The agent runs beside the start-up script in the same process group, so stop ends both.
                Files.writeString(meta.resolve("agent.sh"), request.agent().script(), StandardCharsets.UTF_8);
                workload = List.of("/bin/sh", "-c", "/bin/sh \"$0/agent.sh\" >/dev/null 2>&1 & exec /bin/sh \"$0/startup.sh\"",
                        inside + "/.atelier");
            }
            command.addAll(sandbox.command(dir, workload, network));
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(meta.resolve("startup.log").toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            // Only what the template asks for: the engine's own environment (database password...) stays out.
            Map<String, String> env = builder.environment();
            env.clear();
            env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
            env.put("HOME", inside);
            env.put("ATELIER_WORKSPACE_ID", request.workspaceId());
            env.put("ATELIER_BUILD", Long.toString(request.buildNumber()));
            if (request.owner() != null) {
                env.put("ATELIER_WORKSPACE_OWNER", request.owner());
            }
            request.parameters().forEach((k, v) -> env.put("ATELIER_PARAM_" + k.toUpperCase(), v));
            if (request.agent() != null) {
                env.putAll(request.agent().environment());
            }
            if (request.spec().get("env") instanceof Map<?, ?> templateEnv) {
                templateEnv.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
            }
            Process process = builder.start();
            children.put(request.workspaceId(), process);
            Instant launchedAt = Instant.now();
            Instant startedAt = process.info().startInstant().orElse(launchedAt);
            writeState(dir, new ProcessState(process.pid(), startedAt, key, launchedAt));
            log.info("local workspace {} build {}: started process {} ({})", request.workspaceId(),
                    request.buildNumber(), process.pid(), sandbox.name());
            return ProviderOperation.inProgress(dir.toString(), key, readinessDelay);
        } catch (IOException e) {
            throw ProviderException.retryable("could not start local workspace " + request.workspaceId() + ": "
                    + e.getMessage(), e);
        }
    }

    /** SIGTERM to the whole process group, SIGKILL after the grace period; returns when the whole tree is gone. */
    private void terminate(Path dir) {
        Optional<ProcessState> state = readState(dir);
        Optional<ProcessHandle> process = state.flatMap(ProcessState::handle);
        if (process.isPresent()) {
            long group = state.get().pid();
            List<ProcessHandle> tree = new ArrayList<>(process.get().descendants().toList());
            tree.add(process.get());
            signalGroup("TERM", group);
            if (!awaitExit(tree, stopGracePeriod)) {
                log.info("process group {} did not stop within {}; killing it", group, stopGracePeriod);
            }
            signalGroup("KILL", group);
            if (!awaitExit(tree, Duration.ofSeconds(5))) {
                throw ProviderException.retryable("processes of group " + group + " did not die after SIGKILL", null);
            }
        }
        try {
            Files.deleteIfExists(dir.resolve(".atelier/process.json"));
        } catch (IOException e) {
            throw ProviderException.retryable("could not clear process state in " + dir, e);
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

    Path directory(String workspaceId) {
        if (workspaceId == null || !WORKSPACE_ID.matcher(workspaceId).matches()) {
            throw ProviderException.permanent("invalid workspace id '" + workspaceId + "'");
        }
        return root.resolve(workspaceId);
    }

    private Map<String, String> connection(Path dir, ProcessState state) {
        Map<String, String> connection = new LinkedHashMap<>();
        connection.put("type", "local");
        connection.put("directory", dir.toString());
        connection.put("sandbox", sandbox.name());
        connection.put("pid", Long.toString(state.pid()));
        connection.put("log", dir.resolve(".atelier/startup.log").toString());
        return connection;
    }

    private Optional<ProcessState> readState(Path dir) {
        Path file = dir.resolve(".atelier/process.json");
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(json.readValue(file.toFile(), ProcessState.class));
        } catch (IOException e) {
            log.warn("unreadable process state {}: {}", file, e.getMessage());
            return Optional.empty();
        }
    }

    private void writeState(Path dir, ProcessState state) throws IOException {
        Path tmp = dir.resolve(".atelier/process.json.tmp");
        json.writeValue(tmp.toFile(), state);
        Files.move(tmp, dir.resolve(".atelier/process.json"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @SuppressWarnings("unchecked")
    private Map<String, String> readLabels(Path dir) {
        try {
            Path file = dir.resolve(".atelier/labels.json");
            return Files.exists(file) ? json.readValue(file.toFile(), Map.class) : Map.of();
        } catch (IOException e) {
            return Map.of();
        }
    }

    private static Integer exitCode(Process child) {
        try {
            return child.waitFor(1, TimeUnit.SECONDS) ? child.exitValue() : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            String text = String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
            return text.isBlank() ? "(none)" : text.length() > 1000 ? text.substring(text.length() - 1000) : text;
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * The start-up process of a workspace; the start time guards against a reused pid after a reboot. It comes from
     * {@code /proc} (boot time in whole seconds plus clock ticks) and can be up to a second or more off the wall
     * clock, so the readiness delay is measured from {@code launchedAt}, our own clock when the process was started
     * (absent in state files of older engines).
     */
    record ProcessState(long pid, Instant startedAt, String key, Instant launchedAt) {

        Instant readySince() {
            return launchedAt != null ? launchedAt : startedAt;
        }

        Optional<ProcessHandle> handle() {
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> h.info().startInstant()
                    .map(s -> Math.abs(Duration.between(s, startedAt).toMillis()) < 2000).orElse(true));
        }
    }
}
