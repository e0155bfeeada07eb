package dev.atelier.providers.kubernetes;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.WorkspaceShell;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.PortForward;
import io.fabric8.kubernetes.client.http.WebSocketHandshakeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Processes in a kubernetes workspace's container for the SSH gateway, through the API server's {@code exec}
 * (a websocket to the kubelet, with a TTY when the client asked for one, resized on the websocket's resize channel;
 * {@link PodExec}, which also passes the end of the client's input on where the cluster speaks
 * {@code v5.channel.k8s.io}), and TCP connections to the pod's own ports through its {@code portforward}. The pod is found the way
 * {@link KubernetesWorkspaceProvider} names and labels it ({@link WorkspaceObjects}): pod {@code -0} of the
 * workspace's StatefulSet, carrying the workspace id label, in the default namespace or (a template's namespace)
 * wherever the engine may list it.
 *
 * <p>The exec API takes an argument vector and no environment, so the variables the gateway passes on
 * ({@code TERM}, {@code LANG}, {@code LC_*}) become {@code env NAME=value} arguments in front of the command:
 * separate argv elements, never text in a shell string, and only names of the shell's variable syntax.
 */
final class KubernetesShells {

    private static final Logger log = LoggerFactory.getLogger(KubernetesShells.class);
    /** The same login shell as the docker provider's: bash when the image has it, else sh. */
    static final String LOGIN_SHELL = "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    private static final Pattern TERM_TYPE = Pattern.compile("[A-Za-z0-9._+-]{1,64}");
    /** Port-forward reaches the pod's own network namespace only: no other host can be named. */
    private static final Set<String> POD_ITSELF = Set.of("localhost", "127.0.0.1");

    private final Supplier<KubernetesClient> client;
    private final Supplier<String> defaultNamespace;

    KubernetesShells(Supplier<KubernetesClient> client, Supplier<String> defaultNamespace) {
        this.client = client;
        this.defaultNamespace = defaultNamespace;
    }

    WorkspaceShell.ShellProcess open(String workspaceId, WorkspaceShell.ShellRequest request) {
        List<String> argv = argv(request);
        Pod pod = runningPod(workspaceId);
        boolean tty = request.terminal() != null;
        String namespace = pod.getMetadata().getNamespace();
        String podName = pod.getMetadata().getName();
        PodExec process;
        try {
            process = PodExec.start(client.get(), namespace, podName, WorkspaceObjects.CONTAINER, argv, tty);
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate("exec in", "Pod", namespace, withHttpCode(e));
        }
        if (tty) {
            process.resize(request.terminal().columns(), request.terminal().rows());
        }
        return process;
    }

    WorkspaceShell.ShellProcess connect(String workspaceId, String host, int port) {
        if (host == null || !POD_ITSELF.contains(host.toLowerCase(Locale.ROOT))) {
            throw ProviderException.permanent("kubernetes workspaces forward only to their own ports (localhost or "
                    + "127.0.0.1): the connection goes through the API server's port-forward to the pod, which "
                    + "reaches no other host");
        }
        if (port < 1 || port > 65535) {
            throw ProviderException.permanent("invalid forwarding target");
        }
        Pod pod = runningPod(workspaceId);
        String namespace = pod.getMetadata().getNamespace();
        try {
            Pipe toPod = Pipe.open();
            Pipe fromPod = Pipe.open();
            Connection connection = new Connection(toPod, fromPod);
            connection.started(client.get().pods().inNamespace(namespace).withName(pod.getMetadata().getName())
                    .portForward(port, toPod.source(), connection.fromPodSink));
            return connection;
        } catch (IOException e) {
            throw ProviderException.retryable("could not open a connection to the workspace: " + e.getMessage(), e);
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate("port-forward to", "Pod", namespace, withHttpCode(e));
        }
    }

    /** The command as the exec API gets it: the login shell for an empty one, behind {@code env} for variables. */
    static List<String> argv(WorkspaceShell.ShellRequest request) {
        List<String> command = request.command().isEmpty() ? List.of("/bin/sh", "-c", LOGIN_SHELL) : request.command();
        List<String> assignments = new ArrayList<>();
        if (request.terminal() != null && TERM_TYPE.matcher(request.terminal().type()).matches()) {
            assignments.add("TERM=" + request.terminal().type());
        }
        new java.util.TreeMap<>(request.env()).forEach((name, value) -> {
            if (!ENV_NAME.matcher(name).matches() || "TERM".equals(name)) {
                throw ProviderException.permanent("an environment variable name that is not a shell name cannot be "
                        + "passed into a kubernetes workspace");
            }
            if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw ProviderException.permanent("an environment variable with control characters cannot be "
                        + "passed into a kubernetes workspace");
            }
            assignments.add(name + "=" + value);
        });
        if (assignments.isEmpty()) {
            return command;
        }
        if (command.get(0).contains("=")) {
            // env would take it for one more assignment.
            throw ProviderException.permanent("a program whose name contains '=' cannot be started with variables");
        }
        List<String> argv = new ArrayList<>();
        argv.add("env");
        argv.addAll(assignments);
        argv.addAll(command);
        return argv;
    }

    /**
     * The workspace's pod, which must be running and ready: an exec into a pod that is starting has no container to
     * run in yet (the API server refuses it), and one into a stopped workspace has nothing to reach.
     */
    private Pod runningPod(String workspaceId) {
        Pod pod = find(workspaceId);
        if (pod == null) {
            throw ProviderException.permanent("the workspace has no pod (it is not running)");
        }
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            throw ProviderException.permanent("the workspace's pod is being deleted");
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if (!PodStatus.ready(pod)) {
            throw ProviderException.permanent("the workspace's pod is not running (phase " + (phase == null ? "unknown"
                    : phase) + ", not ready)");
        }
        return pod;
    }

    /**
     * Pod {@code -0} of the workspace's StatefulSet with the workspace's labels: in the default namespace, else in
     * any namespace (a template's own), when the engine may list pods cluster-wide.
     */
    private Pod find(String workspaceId) {
        String podName = WorkspaceObjects.podName(WorkspaceObjects.name(workspaceId));
        Map<String, String> selector = WorkspaceObjects.selector(workspaceId);
        String namespace = defaultNamespace.get();
        KubernetesClient k8s = client.get();
        Pod pod;
        try {
            pod = k8s.pods().inNamespace(namespace).withName(podName).get();
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate("read", "Pod", namespace, e);
        }
        if (pod != null && ours(pod, selector)) {
            return pod;
        }
        try {
            return k8s.pods().inAnyNamespace().withLabels(selector).list().getItems().stream()
                    .filter(p -> podName.equals(p.getMetadata().getName()) && ours(p, selector))
                    .findFirst().orElse(null);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 403) {
                log.debug("kubernetes shells: may not list pods in all namespaces; workspace {} not in {}",
                        workspaceId, namespace);
                return null;
            }
            throw KubernetesErrors.translate("list", "Pod", "(all)", e);
        }
    }

    /**
     * fabric8 reports a refused websocket upgrade (403 without {@code create} on {@code pods/exec}, say) without its
     * HTTP code, which would read as an unreachable API server (retryable); the handshake's response has the code.
     */
    private static KubernetesClientException withHttpCode(KubernetesClientException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof WebSocketHandshakeException handshake && handshake.getResponse() != null
                    && handshake.getResponse().code() > 0) {
                int code = handshake.getResponse().code();
                return new KubernetesClientException("the API server refused the websocket (HTTP " + code + ")",
                        code, null);
            }
        }
        return e;
    }

    private static boolean ours(Pod pod, Map<String, String> selector) {
        Map<String, String> labels = pod.getMetadata().getLabels();
        return labels != null && selector.entrySet().stream()
                .allMatch(e -> Objects.equals(labels.get(e.getKey()), e.getValue()));
    }

    /**
     * One port-forward: the gateway writes into one pipe and reads from the other; fabric8 pumps them through the
     * websocket and closes the pod's side when the stream ends, which ends the connection.
     */
    private static final class Connection implements WorkspaceShell.ShellProcess {
        private final Pipe toPod;
        private final OutputStream stdin;
        private final InputStream stdout;
        /** fabric8 closed the pod's side: the forwarding is over. */
        private final CompletableFuture<Void> ended = new CompletableFuture<>();
        private final WritableByteChannel fromPodSink;
        private volatile PortForward forward;
        private volatile CompletableFuture<Integer> exit = new CompletableFuture<>();

        Connection(Pipe toPod, Pipe fromPod) {
            this.toPod = toPod;
            this.stdin = Channels.newOutputStream(toPod.sink());
            this.stdout = Channels.newInputStream(fromPod.source());
            WritableByteChannel sink = fromPod.sink();
            // fabric8 closes this channel when the forwarding ends (either side): that is the connection's end.
            this.fromPodSink = new WritableByteChannel() {
                @Override
                public int write(ByteBuffer src) throws IOException {
                    return sink.write(src);
                }

                @Override
                public boolean isOpen() {
                    return sink.isOpen();
                }

                @Override
                public void close() throws IOException {
                    try {
                        sink.close();
                    } finally {
                        ended.complete(null);
                    }
                }
            };
        }

        /**
         * The forwarding has begun; its end is judged only now, so that a failure that ends it before fabric8's
         * handle is known still counts as one.
         */
        void started(PortForward started) {
            forward = started;
            exit = ended.thenApply(v -> failed() ? 1 : 0);
        }

        /**
         * Whether the forwarding failed (the API server refused the websocket, the pod's port had nothing listening):
         * the client only sees its connection closed, so the reason goes to the log.
         */
        private boolean failed() {
            PortForward current = forward;
            if (current == null || !current.errorOccurred()) {
                return false;
            }
            List<Throwable> problems = new ArrayList<>(current.getServerThrowables());
            problems.addAll(current.getClientThrowables());
            log.info("kubernetes port-forward ended with an error: {}", problems.isEmpty() ? "(none reported)"
                    : problems.get(0).toString());
            return true;
        }

        @Override
        public OutputStream stdin() {
            return stdin;
        }

        @Override
        public InputStream stdout() {
            return stdout;
        }

        @Override
        public InputStream stderr() {
            return null;
        }

        @Override
        public void resize(int columns, int rows) {
            // a connection has no terminal
        }

        @Override
        public CompletableFuture<Integer> exit() {
            return exit;
        }

        @Override
        public void close() {
            PortForward current = forward;
            if (current != null) {
                try {
                    current.close();
                } catch (IOException | RuntimeException e) {
                    // already closed
                }
            }
            try {
                toPod.sink().close();
            } catch (IOException e) {
                // already closed
            }
            try {
                fromPodSink.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }
}
