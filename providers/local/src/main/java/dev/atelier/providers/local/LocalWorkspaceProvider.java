package dev.atelier.providers.local;

import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.SpecEnvironment;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.provider.WorkspaceShell;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The embedded default provider: a workspace is a directory ({@code <root>/<id>}) and the processes started from
 * the template's start-up script, in a bubblewrap sandbox where it works (see {@link Sandboxes}). Stop ends every
 * process of the workspace and keeps the directory; delete removes both.
 *
 * <p>The engine's bookkeeping (process state, start-up script, log, labels, agent) lives outside the workspace's
 * writable tree, in {@link LocalState}: code in a workspace can neither make the engine lose track of its processes
 * nor make it read or write another file through a link. Workspaces survive an engine restart: the state there is
 * all the engine needs to find and stop them again.
 */
public class LocalWorkspaceProvider implements WorkspaceProvider, WorkspaceShell, AutoCloseable {

    static final String NAME = "local";
    /** The one operation kind: a start waits for the process to outlive the readiness delay. */
    private static final String START = "start";
    static final String DEFAULT_SCRIPT = "while true; do sleep 3600; done\n";
    private static final Logger log = LoggerFactory.getLogger(LocalWorkspaceProvider.class);
    private static final Pattern WORKSPACE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,63}");
    private static final Set<String> SPEC_KEYS = Set.of("startupScript", "env", "network");
    private static final int MAX_SCRIPT = 64 * 1024;

    private final Path root;
    private final LocalState state;
    private final Sandboxes.Sandbox sandbox;
    private final Duration readinessDelay;
    private final Duration stopGracePeriod;
    private final AgentRelay relay;
    /** Processes this engine started, for their exit code; after a restart the state file is all we have. */
    private final Map<String, Process> children = new ConcurrentHashMap<>();

    public LocalWorkspaceProvider(Path root, Path stateRoot, Sandboxes.Sandbox sandbox, Duration readinessDelay,
                                  Duration stopGracePeriod, Supplier<String> engineUrl) {
        this.root = root.toAbsolutePath().normalize();
        this.state = new LocalState(stateRoot.toAbsolutePath().normalize());
        this.sandbox = sandbox;
        this.readinessDelay = readinessDelay;
        this.stopGracePeriod = stopGracePeriod;
        this.relay = new AgentRelay(engineUrl);
        try {
            Files.createDirectories(this.root);
            restrictWrites(this.root);
            LegacyWorkspaces.adopt(this.root, state);
        } catch (IOException e) {
            throw new IllegalStateException("local provider: cannot prepare " + this.root + ": " + e.getMessage(), e);
        }
        reopenRelays();
        log.info("local provider: workspaces under {}, engine state under {}, sandbox {}{}", this.root, state.root(),
                sandbox.name(), sandbox.identity() != null ? ", workspace code as uid " + sandbox.identity().uid() : "");
    }

    @Override
    public String name() {
        return NAME;
    }

    public String sandboxName() {
        return sandbox.name();
    }

    /** Why there is no sandbox; null when there is one. */
    public String sandboxProblem() {
        return sandbox.reason();
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
            problems.add("network must be true (the host's network) or false (isolated, the default)");
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
        String id = id(request);
        Path dir = root.resolve(id);
        // Before OperationId the id was the bare idempotency key; sagas in flight then still poll with it.
        OperationId operation = OperationId.parse(NAME, operationId, old -> new OperationId(START, null, old, null));
        Optional<LocalState.ProcessState> current = state.process(id);
        if (current.isEmpty() || !operation.is(START) || !current.get().key().equals(operation.key())) {
            throw ProviderException.permanent("local workspace " + id + " lost its start-up process");
        }
        if (current.get().handle().isPresent()) {
            if (Duration.between(current.get().readySince(), Instant.now()).compareTo(readinessDelay) >= 0) {
                return ProviderOperation.done(dir.toString(), connection(id, current.get()));
            }
            return ProviderOperation.inProgress(dir.toString(), operation, readinessDelay);
        }
        Process child = children.get(id);
        Integer exit = child != null && child.pid() == current.get().pid() ? exitCode(child) : null;
        if (exit != null && exit == 0) {
            // A script that finished cleanly leaves a workspace with no long-running process: still usable.
            return ProviderOperation.done(dir.toString(), connection(id, current.get()));
        }
        throw ProviderException.permanent("start-up script " + (exit == null ? "ended" : "exited with code " + exit)
                + "; last output: " + state.tail(id));
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        String id = id(request);
        terminate(id);
        return ProviderOperation.done(root.resolve(id).toString(), Map.of());
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        String id = id(request);
        terminate(id);
        try {
            StateFiles.deleteTree(root, id);
            state.deleteAll(id);
        } catch (IOException e) {
            throw ProviderException.retryable("could not remove local workspace " + id + ": " + e.getMessage(), e);
        }
        children.remove(id);
        return ProviderOperation.done(null, Map.of());
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        String id = id(request);
        Path dir = root.resolve(id);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of());
        }
        Optional<LocalState.ProcessState> current = state.process(id);
        boolean running = current.map(WorkspaceProcesses::running).orElse(false);
        return new ResourceDescription(dir.toString(),
                running ? ResourceDescription.State.RUNNING : ResourceDescription.State.STOPPED,
                state.labels(id), current.map(s -> connection(id, s)).orElse(Map.of()));
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS))
                    .map(d -> d.getFileName().toString()).filter(n -> WORKSPACE_ID.matcher(n).matches())
                    .filter(n -> state.labels(n).entrySet().containsAll(labels.entrySet()))
                    .map(n -> describe(new ProvisionRequest(n, 0, null, null, null, null, null, null)))
                    .toList();
        } catch (IOException e) {
            throw ProviderException.retryable("could not list " + root + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        relay.close();
    }

    /** A process in the running workspace for the SSH gateway: joined to its sandbox, as its uid ({@link LocalShells}). */
    @Override
    public ShellProcess open(Target target, ShellRequest request) {
        String id = id(new ProvisionRequest(target.workspaceId(), 0, null, null, null, null, null, null));
        return LocalShells.open(sandbox, running(id), sandbox.workspacePath(root.resolve(id)), request);
    }

    /** A TCP connection made inside the workspace's network namespace (its localhost is the workspace's). */
    @Override
    public ShellProcess connect(Target target, String host, int port) {
        String id = id(new ProvisionRequest(target.workspaceId(), 0, null, null, null, null, null, null));
        return LocalShells.connect(running(id), host, port);
    }

    private LocalState.ProcessState running(String id) {
        Optional<LocalState.ProcessState> current = state.process(id);
        if (current.isEmpty() || !WorkspaceProcesses.running(current.get())) {
            throw ProviderException.permanent("local workspace " + id + " has no running processes on this node");
        }
        return current.get();
    }

    private synchronized ProviderOperation launch(ProvisionRequest request) {
        String id = id(request);
        Path dir = root.resolve(id);
        String key = request.idempotencyKey();
        Optional<LocalState.ProcessState> existing = state.process(id);
        if (existing.isPresent() && existing.get().key().equals(key) && existing.get().handle().isPresent()) {
            // The same build asked again (a retry after a crash): the process is already there.
            return ProviderOperation.inProgress(dir.toString(), OperationId.attempt(START, request, null),
                    readinessDelay);
        }
        terminate(id);
        try {
            prepareDirectories(id, dir);
            String script = (String) request.spec().getOrDefault("startupScript", DEFAULT_SCRIPT);
            state.write(id, LocalState.STARTUP, script.getBytes(StandardCharsets.UTF_8), true);
            state.labels(id, request.labels());
            writeUserDatabase(id);
            state.delete(id, LocalState.SANDBOX_INFO);
            boolean agent = request.agent() != null;
            if (agent) {
                state.write(id, LocalState.AGENT, request.agent().script().getBytes(StandardCharsets.UTF_8), true);
                if (sandbox.agentSocket() != null) {
                    relay.open(id, state.dir(id).resolve(LocalState.RELAY_DIR));
                }
            }
            boolean hostNetwork = Boolean.TRUE.equals(request.spec().get("network"));
            ProcessBuilder builder = new ProcessBuilder(sandbox.command(
                    new Sandboxes.Launch(dir, state.dir(id), hostNetwork, agent)))
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(state.log(id).toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            environment(builder.environment(), request);
            Process process = builder.start();
            children.put(id, process);
            Instant launchedAt = Instant.now();
            Instant startedAt = process.info().startInstant().orElse(launchedAt);
            LocalState.ProcessState started = new LocalState.ProcessState(process.pid(), startedAt, key, launchedAt,
                    sandbox.name(), null, null, null);
            if (sandbox instanceof Sandboxes.BubblewrapSandbox) {
                // bwrap reports its pid 1 and pid namespace before any workspace code runs: stop needs them.
                Optional<LocalState.SandboxInfo> info = state.sandboxInfo(id, Duration.ofSeconds(10));
                if (info.isPresent()) {
                    Instant initStarted = ProcessHandle.of(info.get().initPid())
                            .flatMap(h -> h.info().startInstant()).orElse(null);
                    started = new LocalState.ProcessState(process.pid(), startedAt, key, launchedAt, sandbox.name(),
                            info.get().initPid(), initStarted, info.get().pidNamespace());
                }
            }
            state.process(id, started);
            log.info("local workspace {} build {}: started process {} ({}{})", id, request.buildNumber(),
                    process.pid(), sandbox.name(), hostNetwork ? ", host network" : "");
            return ProviderOperation.inProgress(dir.toString(), OperationId.attempt(START, request, null),
                    readinessDelay);
        } catch (IOException e) {
            throw ProviderException.retryable("could not start local workspace " + id + ": " + e.getMessage(), e);
        }
    }

    /** Only what the template asks for: the engine's own environment (database password...) stays out. */
    private void environment(Map<String, String> env, ProvisionRequest request) {
        String inside = sandbox.workspacePath(root.resolve(request.workspaceId()));
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
            if (sandbox.agentSocket() != null) {
                // The sandbox cannot reach the engine's port: the agent talks to the relay's socket instead.
                env.put("ATELIER_URL", "http://localhost");
                env.put("ATELIER_AGENT_SOCKET", sandbox.agentSocket());
            }
        }
        if (request.spec().get("env") instanceof Map<?, ?> templateEnv) {
            templateEnv.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
        }
    }

    /**
     * The workspace directory belongs to the uid its code runs as (0700), and the engine's state directory to the
     * engine. A directory an older engine made as root is handed over once, without following links.
     */
    private void prepareDirectories(String id, Path dir) throws IOException {
        state.prepare(id);
        StateFiles.makeDirectories(root, PosixFilePermissions.fromString("rwx------"), id);
        Sandboxes.Identity identity = sandbox.identity();
        if (identity != null) {
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != identity.uid()) {
                chown(dir, identity);
            }
        }
    }

    private static void chown(Path dir, Sandboxes.Identity identity) throws IOException {
        try {
            // -P -h: never follow a link, change the link itself.
            Process chown = new ProcessBuilder("chown", "-R", "-P", "-h", identity.uid() + ":" + identity.gid(), "--",
                    dir.toString()).redirectErrorStream(true).start();
            String output = new String(chown.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!chown.waitFor(60, TimeUnit.SECONDS) || chown.exitValue() != 0) {
                throw new IOException("could not hand the workspace directory to uid " + identity.uid() + ": "
                        + output.lines().findFirst().orElse("chown failed"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** A passwd and group of the sandbox's own: the workspace's user, root and nobody; no host accounts. */
    private void writeUserDatabase(String id) throws IOException {
        int uid = sandbox.identity() != null ? sandbox.identity().uid() : Sandboxes.engineUid();
        int gid = sandbox.identity() != null ? sandbox.identity().gid() : engineGid();
        String home = sandbox.workspacePath(root.resolve(id));
        String passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                + (uid != 0 ? "workspace:x:" + uid + ":" + gid + ":Atelier workspace:" + home + ":/bin/sh\n" : "")
                + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
        String group = "root:x:0:\n" + (gid != 0 ? "workspace:x:" + gid + ":\n" : "") + "nogroup:x:65534:\n";
        state.write(id, LocalState.PASSWD, passwd.getBytes(StandardCharsets.UTF_8), true);
        state.write(id, LocalState.GROUP, group.getBytes(StandardCharsets.UTF_8), true);
    }

    private static int engineGid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        } catch (IOException e) {
            return 65534;
        }
    }

    /** Only the engine may add or rename workspace directories: no workspace can swap its directory for a link. */
    private static void restrictWrites(Path root) throws IOException {
        var permissions = Files.getPosixFilePermissions(root);
        if (permissions.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                || permissions.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
            log.warn("local provider: {} was writable by others; making it rwxr-xr-x", root);
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** Ends every process of the workspace; returns when none is left. */
    private void terminate(String id) {
        Optional<LocalState.ProcessState> current = state.process(id);
        current.ifPresent(s -> WorkspaceProcesses.terminate(s, stopGracePeriod));
        relay.close(id);
        try {
            state.clearProcess(id);
        } catch (IOException e) {
            throw ProviderException.retryable("could not clear the process state of local workspace " + id, e);
        }
    }

    /** After an engine restart: the agents of running sandboxes reach the engine again. */
    private void reopenRelays() {
        if (!(sandbox instanceof Sandboxes.BubblewrapSandbox)) {
            return;
        }
        try {
            for (String id : state.ids()) {
                Optional<LocalState.ProcessState> current = state.process(id);
                if (current.isPresent() && current.get().pidNamespace() != null && WorkspaceProcesses.running(current.get())
                        && state.exists(id)) {
                    relay.open(id, state.dir(id).resolve(LocalState.RELAY_DIR));
                }
            }
        } catch (IOException e) {
            log.warn("local provider: could not reopen the agents' sockets: {}", e.getMessage());
        }
    }

    private String id(ProvisionRequest request) {
        String workspaceId = request.workspaceId();
        if (workspaceId == null || !WORKSPACE_ID.matcher(workspaceId).matches()) {
            throw ProviderException.permanent("invalid workspace id '" + workspaceId + "'");
        }
        return workspaceId;
    }

    Path directory(String workspaceId) {
        return root.resolve(id(new ProvisionRequest(workspaceId, 0, null, null, null, null, null, null)));
    }

    private Map<String, String> connection(String id, LocalState.ProcessState process) {
        Map<String, String> connection = new LinkedHashMap<>();
        connection.put("type", "local");
        connection.put("directory", root.resolve(id).toString());
        connection.put("sandbox", process.sandbox() != null ? process.sandbox() : "none");
        connection.put("pid", Long.toString(process.pid()));
        connection.put("log", state.dir(id).resolve(LocalState.LOG).toString());
        return connection;
    }

    private static Integer exitCode(Process child) {
        try {
            return child.waitFor(1, TimeUnit.SECONDS) ? child.exitValue() : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
