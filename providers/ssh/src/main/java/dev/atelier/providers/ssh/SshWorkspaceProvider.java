package dev.atelier.providers.ssh;

import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.SpecEnvironment;
import dev.atelier.provider.WorkspaceKey;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.provider.WorkspaceShell;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

import static dev.atelier.provider.ShellQuoting.quote;

// About 500 lines on purpose: the lifecycle and the files it writes on the host read together; the host pool,
// the SSH connector and the spec checks are split out already.
/**
 * Workspaces on registered bare-metal hosts over SSH. A workspace is placed on a host with free capacity whose
 * labels match the template's {@code hostSelector}, and gets a directory there ({@code <host directory>/<workspace
 * id>}) and the processes started from the template's start-up script: in a pid namespace of their own where the
 * host allows unprivileged user namespaces (stop ends the namespace, which no process can leave), else in a session
 * of their own ({@code setsid}, which a process can leave: the connection info then says {@code sandbox: none}).
 * The directory stays on stop and goes on delete. The engine's state for the workspace (control scripts, process
 * record, log, environment, labels) is in {@code <host directory>/.atelier/<workspace id>/}, outside the workspace's
 * directory and hidden from its processes; it is written over SFTP without following links.
 *
 * <p>Nothing from templates or parameters is ever put into a command line: the start-up script, the environment
 * (parameters, template env, workspace identity) and the agent are written as files over SFTP, and the commands
 * run are fixed scripts whose only arguments (a path derived from validated ids, the build key) are validated and
 * quoted.
 *
 * <p>The SSH gateway reaches a workspace through the host's own sshd ({@link SshShells}): the provider puts the
 * engine's gateway key into the host user's {@code authorized_keys} when it provisions a workspace (restricted to
 * terminals and port forwarding), and processes start in the workspace's directory as the host user, with the host
 * key checked against the registered fingerprint.
 */
public class SshWorkspaceProvider implements WorkspaceProvider, WorkspaceShell {

    static final String NAME = "ssh";
    /** Operation kinds: a start waits out the readiness delay, a stop waits for the processes until its deadline. */
    private static final String START = "start";
    private static final String STOP = "stop";
    static final List<String> SPEC_KEYS = List.of("startupScript", "hostSelector", "env");
    static final String DEFAULT_SCRIPT = "while :; do sleep 3600; done\n";
    private static final Logger log = LoggerFactory.getLogger(SshWorkspaceProvider.class);
    private static final Pattern WORKSPACE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern KEY = Pattern.compile("[a-z0-9-]{1,90}");
    private static final Pattern SAFE_ARGUMENT = Pattern.compile("[A-Za-z0-9._/-]+");
    /** The engine's state directories on a host, beside the workspace directories (not a valid workspace id). */
    static final String STATE_DIR = ".atelier";
    /** What the gateway key may do on a host: a terminal and port forwarding, nothing else ssh offers. */
    static final String GATEWAY_KEY_OPTIONS = "restrict,pty,port-forwarding";
    private static final Pattern PUBLIC_KEY = Pattern.compile("ssh-ed25519 [A-Za-z0-9+/]{32,200}={0,3}( [A-Za-z0-9@._+:-]{1,100})?");
    private static final int MAX_SCRIPT = 64 * 1024;

    private final SshHostRegistry hosts;
    private final SshConnector ssh;
    private final SshProviderProperties properties;
    private final String controlScript;
    private final String launchScript;
    private final WorkspaceKey gatewayKey;
    private final SshShells shells;

    public SshWorkspaceProvider(SshHostRegistry hosts, SshConnector ssh, SshProviderProperties properties) {
        this(hosts, ssh, properties, null, null);
    }

    /**
     * @param gatewayKey the engine's key for the SSH gateway's hop; null: none is installed
     * @param shells     the hop itself; null: the gateway cannot reach these workspaces
     */
    public SshWorkspaceProvider(SshHostRegistry hosts, SshConnector ssh, SshProviderProperties properties,
                                WorkspaceKey gatewayKey, SshShells shells) {
        this.gatewayKey = gatewayKey;
        this.shells = shells;
        this.hosts = hosts;
        this.ssh = ssh;
        this.properties = properties;
        this.controlScript = resource("atelier/ssh/control.sh");
        this.launchScript = resource("atelier/ssh/launch.sh");
        log.info("ssh provider: keys in {}", ssh.keyDir());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        List<String> problems = new ArrayList<>();
        spec.keySet().stream().filter(k -> !SPEC_KEYS.contains(k)).sorted().forEach(k -> problems.add(
                "unknown key '" + k + "' for provider ssh (known: " + String.join(", ", SPEC_KEYS) + ")"));
        Object script = spec.get("startupScript");
        if (script != null && !(script instanceof String)) {
            problems.add("startupScript must be a string (a shell script)");
        } else if (script != null && ((String) script).length() > MAX_SCRIPT) {
            problems.add("startupScript is longer than " + MAX_SCRIPT + " characters");
        }
        Object selector = spec.get("hostSelector");
        if (selector != null) {
            if (!(selector instanceof Map<?, ?> map)) {
                problems.add("hostSelector must be a map of host labels to values, such as {\"gpu\": \"a100\"}");
            } else {
                map.forEach((k, v) -> {
                    if (!(k instanceof String key) || !HostDefinition.LABEL_KEY.matcher(key).matches()) {
                        problems.add("hostSelector: label '" + k + "' must be letters, digits and '._/-'");
                    } else if (!(v instanceof String value) || !HostDefinition.LABEL_VALUE.matcher(value).matches()) {
                        problems.add("hostSelector: value of '" + k + "' must be a string of letters, digits and '._-'");
                    }
                });
            }
        }
        SpecEnvironment.check(spec.get("env"), "", "", Set.of("HOME"), problems);
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
        // Ids of before OperationId ("start:<key>:<millis>") still come from sagas that were in flight then.
        OperationId op = OperationId.parse(NAME, operationId, OperationId::fromKindKeyMillis);
        SshHost host = hosts.placement(workspaceId(request)).orElseThrow(() -> ProviderException.permanent(
                "ssh workspace " + request.workspaceId() + " has no host any more (was its host deleted?)"));
        String dir = directory(host, request.workspaceId());
        return switch (op.kind()) {
            case START -> ssh.withSession(host, s -> {
                Instant launched = op.requireAt();
                String status = control(s, dir, "status");
                if (status.startsWith("running")) {
                    if (Duration.between(launched, Instant.now()).compareTo(properties.readinessDelay()) >= 0) {
                        return ProviderOperation.done(resourceId(host, dir), connection(host, dir, sandbox(status)));
                    }
                    return ProviderOperation.inProgress(resourceId(host, dir), op, Duration.ofMillis(200));
                }
                if (status.equals("exited 0")) {
                    // A script that finished cleanly leaves a workspace with no long-running process: still usable.
                    return ProviderOperation.done(resourceId(host, dir), connection(host, dir, control(s, dir, "sandbox")));
                }
                String tail = control(s, dir, "tail");
                throw ProviderException.permanent("start-up script on host " + host.name() + " "
                        + (status.startsWith("exited") ? "exited with code " + status.substring(7) : "is gone")
                        + "; last output: " + (tail.isBlank() ? "(none)" : tail));
            });
            case STOP -> ssh.withSession(host, s -> {
                Instant killAt = op.requireAt();
                String state = control(s, dir, "alive");
                if (state.equals("stopped")) {
                    return ProviderOperation.done(resourceId(host, dir), Map.of());
                }
                if (Instant.now().isAfter(killAt)) {
                    log.info("ssh workspace {}: processes still running after {}; killing them",
                            request.workspaceId(), properties.stopGracePeriod());
                    control(s, dir, "kill");
                    return ProviderOperation.done(resourceId(host, dir), Map.of());
                }
                return ProviderOperation.inProgress(resourceId(host, dir), op, Duration.ofMillis(200));
            });
            default -> throw ProviderException.permanent("unknown ssh operation '" + op + "'");
        };
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        Optional<SshHost> placed = hosts.placement(workspaceId(request));
        if (placed.isEmpty()) {
            return ProviderOperation.done(null, Map.of());
        }
        SshHost host = placed.get();
        String dir = directory(host, request.workspaceId());
        return ssh.withSession(host, s -> {
            if (!ensureControl(s, dir)) {
                return ProviderOperation.done(resourceId(host, dir), Map.of());
            }
            String state = control(s, dir, "term");
            if (state.equals("stopped")) {
                return ProviderOperation.done(resourceId(host, dir), Map.of());
            }
            Instant killAt = Instant.now().plus(properties.stopGracePeriod());
            key(request); // an invalid idempotency key is refused here as on start
            return ProviderOperation.inProgress(resourceId(host, dir), OperationId.attempt(STOP, request, killAt),
                    Duration.ofMillis(200));
        });
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        String id = workspaceId(request);
        Optional<SshHost> placed = hosts.placement(id);
        if (placed.isEmpty()) {
            return ProviderOperation.done(null, Map.of());
        }
        if (!hosts.provisioned(id)) {
            hosts.release(id);
            return ProviderOperation.done(null, Map.of());
        }
        SshHost host = placed.get();
        String dir = directory(host, id);
        ssh.withSession(host, s -> {
            ensureControl(s, dir);
            String control = quote(meta(dir) + "/control.sh");
            // rm -rf removes links, never what they point at.
            var result = s.exec("if [ -f " + control + " ]; then sh " + control + " kill >/dev/null || exit 3; fi; rm -rf -- "
                    + quote(dir) + " " + quote(meta(dir)));
            if (result.exitStatus() != 0) {
                throw ProviderException.retryable("could not remove workspace directory " + dir + " on host "
                        + host.name() + ": " + result.output(), null);
            }
            return null;
        });
        hosts.release(id);
        log.info("ssh workspace {}: processes ended and {} removed on host {}", id, dir, host.name());
        return ProviderOperation.done(null, Map.of());
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        Optional<SshHost> placed = hosts.placement(workspaceId(request));
        if (placed.isEmpty()) {
            return new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of());
        }
        SshHost host = placed.get();
        String dir = directory(host, request.workspaceId());
        return ssh.withSession(host, s -> {
            if (!ensureControl(s, dir)) {
                return new ResourceDescription(resourceId(host, dir), ResourceDescription.State.PROVISIONING, Map.of(),
                        Map.of());
            }
            String status = control(s, dir, "status");
            ResourceDescription.State state = status.startsWith("running") || status.equals("exited 0")
                    ? ResourceDescription.State.RUNNING
                    : status.startsWith("exited") ? ResourceDescription.State.FAILED : ResourceDescription.State.STOPPED;
            return new ResourceDescription(resourceId(host, dir), state, readLabels(s, dir),
                    state == ResourceDescription.State.RUNNING ? connection(host, dir, sandbox(status)) : Map.of());
        });
    }

    /** Workspace directories on every registered host whose labels file has all the labels; unreachable hosts are skipped. */
    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        List<ResourceDescription> found = new ArrayList<>();
        for (SshHost host : hosts.list()) {
            try {
                ssh.withSession(host, s -> {
                    for (String name : s.list(host.directory())) {
                        if (!WORKSPACE_ID.matcher(name).matches()) {
                            continue;
                        }
                        String dir = host.directory() + "/" + name;
                        Map<String, String> actual = readLabels(s, dir);
                        if (!actual.isEmpty() && actual.entrySet().containsAll(labels.entrySet())) {
                            String status = control(s, dir, "status");
                            found.add(new ResourceDescription(resourceId(host, dir), status.startsWith("running")
                                    ? ResourceDescription.State.RUNNING : ResourceDescription.State.STOPPED, actual,
                                    Map.of()));
                        }
                    }
                    return null;
                });
            } catch (ProviderException e) {
                log.warn("ssh inventory: host {} skipped: {}", host.name(), e.getMessage());
            }
        }
        return found;
    }

    private ProviderOperation launch(ProvisionRequest request) {
        String id = workspaceId(request);
        SshHost host = hosts.place(id, selector(request.spec()));
        String dir = directory(host, id);
        String key = key(request);
        try {
            return provision(request, host, dir, key);
        } catch (RuntimeException e) {
            if (!hosts.provisioned(id)) {
                // Nothing was made on the host: give the slot back (a later start places the workspace again).
                hosts.release(id);
            }
            throw e;
        }
    }

    private ProviderOperation provision(ProvisionRequest request, SshHost host, String dir, String key) {
        String id = request.workspaceId();
        return ssh.withSession(host, s -> {
            var made = s.exec(prepareDirectories(dir));
            if (made.exitStatus() != 0) {
                throw ProviderException.permanent("could not make the workspace directory " + dir + " on host "
                        + host.name() + ": " + made.output());
            }
            hosts.markProvisioned(id);
            authorizeGatewayKey(s, host);
            String meta = meta(dir) + "/";
            s.write(meta + "control.sh", controlScript, 0700);
            s.write(meta + "launch.sh", launchScript, 0700);
            Object script = request.spec().get("startupScript");
            s.write(meta + "startup.sh", script instanceof String text ? text : DEFAULT_SCRIPT, 0700);
            s.write(meta + "env", environment(request), 0600);
            s.write(meta + "labels", labelsFile(request.labels()), 0600);
            if (request.agent() != null) {
                s.write(meta + "agent.sh", request.agent().script(), 0700);
                s.write(meta + "agent.env", envFile(request.agent().environment()), 0600);
            } else {
                s.exec("rm -f -- " + quote(meta + "agent.sh") + " " + quote(meta + "agent.env"));
            }
            String started = control(s, dir, "start", key);
            if (!started.startsWith("started") && !started.startsWith("already")) {
                throw ProviderException.permanent("could not start workspace " + id + " on host " + host.name() + ": "
                        + started);
            }
            log.info("ssh workspace {} build {}: {} on host {} in {}", id, request.buildNumber(), started,
                    host.name(), dir);
            return ProviderOperation.inProgress(resourceId(host, dir), OperationId.attempt(START, request, Instant.now()),
                    properties.readinessDelay());
        });
    }

    @Override
    public ShellProcess open(Target target, ShellRequest request) {
        SshHost host = shellHost(target.workspaceId());
        return shells.open(target(host), directory(host, target.workspaceId()), request);
    }

    @Override
    public ShellProcess connect(Target target, String host, int port) {
        SshHost placed = shellHost(target.workspaceId());
        return shells.connect(target(placed), host, port);
    }

    private SshHost shellHost(String workspaceId) {
        if (shells == null) {
            throw ProviderException.permanent("the ssh provider has no gateway key: workspaces cannot be reached");
        }
        if (workspaceId == null || !WORKSPACE_ID.matcher(workspaceId).matches()) {
            throw ProviderException.permanent("invalid workspace id");
        }
        if (!hosts.provisioned(workspaceId)) {
            throw ProviderException.permanent("ssh workspace " + workspaceId + " is not on any host");
        }
        return hosts.placement(workspaceId).orElseThrow(() -> ProviderException.permanent(
                "ssh workspace " + workspaceId + " is not on any host"));
    }

    private static SshShells.Target target(SshHost host) {
        return new SshShells.Target(host.address(), host.port(), host.user(), host.hostKeyFingerprint());
    }

    /**
     * Adds the engine's gateway key to the host user's {@code ~/.ssh/authorized_keys} once (a fixed script; the key
     * line is checked against the OpenSSH pattern first and single-quoted), limited with {@code restrict,pty,
     * port-forwarding}: no agent or X11 forwarding, no ~/.ssh/rc. The user is the host's, shared by every workspace
     * on it, so deleting one workspace leaves the line in place.
     */
    private void authorizeGatewayKey(SshConnector.Session s, SshHost host) throws IOException {
        if (gatewayKey == null) {
            return;
        }
        String line = GATEWAY_KEY_OPTIONS + " " + gatewayKey.publicKey();
        if (!PUBLIC_KEY.matcher(gatewayKey.publicKey()).matches()) {
            throw new IllegalStateException("the engine's gateway key is not an OpenSSH public key line");
        }
        var added = s.exec("umask 077; k=" + quote(line) + "; f=\"$HOME/.ssh/authorized_keys\"; "
                + "if [ -L \"$HOME/.ssh\" ] || [ -L \"$f\" ]; then echo \"$f is a link\"; exit 3; fi; "
                + "mkdir -p \"$HOME/.ssh\" && if ! grep -qxF \"$k\" \"$f\" 2>/dev/null; then "
                + "if [ -s \"$f\" ] && [ -n \"$(tail -c 1 \"$f\")\" ]; then echo >> \"$f\"; fi; "
                + "printf '%s\\n' \"$k\" >> \"$f\"; fi");
        if (added.exitStatus() != 0) {
            throw ProviderException.permanent("could not authorise the engine's gateway key for " + host.user()
                    + " on host " + host.name() + ": " + added.output());
        }
    }

    /** Runs {@code control.sh} with validated arguments and returns its first line of output. */
    private String control(SshConnector.Session s, String dir, String... args) throws IOException {
        StringBuilder command = new StringBuilder("sh ").append(quote(meta(dir) + "/control.sh"));
        for (String arg : args) {
            if (!SAFE_ARGUMENT.matcher(arg).matches()) {
                throw new IllegalArgumentException("unsafe control argument");
            }
            command.append(' ').append(quote(arg));
        }
        SshConnector.Result result = s.exec(command.toString());
        if (result.exitStatus() != 0) {
            String detail = result.output().isBlank() ? "exit status " + result.exitStatus() : result.output();
            if (result.exitStatus() == 127 || detail.contains("No such file")) {
                throw ProviderException.permanent("workspace directory " + dir + " is missing or incomplete on the host: "
                        + detail);
            }
            throw ProviderException.retryable("workspace control '" + args[0] + "' failed: " + detail, null);
        }
        String out = result.stdout().strip();
        return args[0].equals("tail") ? out : out.lines().findFirst().orElse("");
    }

    /**
     * Whether the workspace's control script is in place. A workspace of an older version kept it in
     * {@code <dir>/.atelier/} (inside the workspace): the current one is installed in the state directory, and it
     * knows how to find and end the process group the older version started.
     */
    private boolean ensureControl(SshConnector.Session s, String dir) throws IOException {
        if (s.exec("test -f " + quote(meta(dir) + "/control.sh")).exitStatus() == 0) {
            return true;
        }
        if (s.exec("test -d " + quote(dir) + " && ! test -L " + quote(dir)).exitStatus() != 0) {
            return false;
        }
        var made = s.exec(prepareDirectories(dir));
        if (made.exitStatus() != 0) {
            throw ProviderException.retryable("could not make the state directory of " + dir + ": " + made.output(), null);
        }
        s.write(meta(dir) + "/control.sh", controlScript, 0700);
        s.write(meta(dir) + "/launch.sh", launchScript, 0700);
        return true;
    }

    /**
     * A fixed command (paths from validated ids, quoted) that makes the workspace directory and the state directory
     * (0700) and refuses when any of them, or the directories above them in the host directory, is a link.
     */
    private static String prepareDirectories(String dir) {
        String hostDir = dir.substring(0, dir.lastIndexOf('/'));
        String states = hostDir + "/" + STATE_DIR;
        StringBuilder sh = new StringBuilder("umask 077; for p in ").append(quote(hostDir)).append(' ')
                .append(quote(states)).append(' ').append(quote(meta(dir))).append(' ').append(quote(dir))
                .append("; do if [ -L \"$p\" ]; then echo \"$p is a link\"; exit 3; fi; done; mkdir -p -- ")
                .append(quote(dir)).append(' ').append(quote(meta(dir))).append(" && chmod 700 -- ").append(quote(dir))
                .append(' ').append(quote(states)).append(' ').append(quote(meta(dir)));
        return sh.toString();
    }

    /** {@code <host directory>/.atelier/<workspace id>}: the engine's state for the workspace at {@code dir}. */
    static String meta(String dir) {
        int slash = dir.lastIndexOf('/');
        return dir.substring(0, slash) + "/" + STATE_DIR + dir.substring(slash);
    }

    /** {@code running PID KIND} names the isolation in its third word. */
    private static String sandbox(String status) {
        String[] words = status.split(" ");
        return words.length > 2 && words[2].equals("pidns") ? "pidns" : "none";
    }

    /** The workspace's environment as a file of quoted assignments, sourced by launch.sh: data, never code. */
    private static String environment(ProvisionRequest request) {
        Map<String, String> env = new TreeMap<>();
        env.put("ATELIER_WORKSPACE_ID", request.workspaceId());
        env.put("ATELIER_BUILD", Long.toString(request.buildNumber()));
        if (request.owner() != null) {
            env.put("ATELIER_WORKSPACE_OWNER", request.owner());
        }
        request.parameters().forEach((k, v) -> env.put("ATELIER_PARAM_" + k.toUpperCase(Locale.ROOT), v));
        if (request.spec().get("env") instanceof Map<?, ?> templateEnv) {
            templateEnv.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
        }
        return envFile(env);
    }

    static String envFile(Map<String, String> env) {
        StringBuilder out = new StringBuilder("# Written by Atelier: the workspace's environment (sourced, values quoted).\n");
        new TreeMap<>(env).forEach((k, v) -> {
            if (!SpecEnvironment.NAME.matcher(k).matches()) {
                throw ProviderException.permanent("invalid environment variable name '" + k + "'");
            }
            if (v.indexOf('\0') >= 0) {
                throw ProviderException.permanent("the value of " + k + " contains a NUL character");
            }
            out.append(k).append('=').append(quote(v)).append('\n');
        });
        return out.toString();
    }

    private static String labelsFile(Map<String, String> labels) {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(labels).forEach((k, v) -> {
            if (HostDefinition.LABEL_KEY.matcher(k).matches() && SAFE_ARGUMENT.matcher(v).matches()) {
                out.append(k).append('=').append(v).append('\n');
            }
        });
        return out.toString();
    }

    private static Map<String, String> readLabels(SshConnector.Session s, String dir) throws IOException {
        String text = s.read(meta(dir) + "/labels");
        Map<String, String> labels = new LinkedHashMap<>();
        if (text != null) {
            text.lines().filter(l -> l.contains("=")).forEach(l -> labels.put(l.substring(0, l.indexOf('=')),
                    l.substring(l.indexOf('=') + 1)));
        }
        return labels;
    }

    private static Map<String, String> connection(SshHost host, String dir, String sandbox) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("type", "ssh");
        c.put("host", host.name());
        c.put("sshHost", host.address());
        c.put("sshPort", Integer.toString(host.port()));
        c.put("sshUser", host.user());
        c.put("directory", dir.startsWith("/") ? dir : "~" + "/" + dir);
        c.put("log", (dir.startsWith("/") ? "" : "~/") + meta(dir) + "/startup.log");
        c.put("sandbox", sandbox.equals("pidns") ? "pidns" : "none");
        return c;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> selector(Map<String, Object> spec) {
        Object selector = spec.get("hostSelector");
        if (selector == null) {
            return Map.of();
        }
        if (!(selector instanceof Map<?, ?> map) || !map.values().stream().allMatch(v -> v instanceof String)) {
            throw ProviderException.permanent("hostSelector must be a map of host labels to string values");
        }
        return (Map<String, String>) map;
    }

    private static String directory(SshHost host, String workspaceId) {
        return host.directory() + "/" + workspaceId;
    }

    private static String resourceId(SshHost host, String dir) {
        return host.name() + ":" + dir;
    }

    private static String workspaceId(ProvisionRequest request) {
        if (request.workspaceId() == null || !WORKSPACE_ID.matcher(request.workspaceId()).matches()) {
            throw ProviderException.permanent("invalid workspace id '" + request.workspaceId() + "'");
        }
        return request.workspaceId();
    }

    private static String key(ProvisionRequest request) {
        String key = request.idempotencyKey();
        if (!KEY.matcher(key).matches()) {
            throw ProviderException.permanent("invalid idempotency key '" + key + "'");
        }
        return key;
    }


    private static String resource(String path) {
        try (InputStream in = SshWorkspaceProvider.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
