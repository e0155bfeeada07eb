package dev.atelier.providers.docker;

import dev.atelier.provider.SpecEnvironment;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.Volume;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceAgent;
import dev.atelier.provider.WorkspaceProvider;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Workspaces as containers on a Docker Engine API (Docker, or podman's compatible API). A workspace is a main
 * container plus optional sidecars on a network of its own, a home volume and further named volumes. Names are
 * derived from the workspace id, so a retried call finds what an earlier attempt made; every object carries the
 * {@code atelier-workspace-id} and {@code atelier-build} labels.
 *
 * <p>Stop stops the containers; start (a new build) replaces them with fresh ones from the current template
 * version, so that its environment, parameters and agent token apply, while volumes and the network persist.
 * Delete removes containers, volumes and network. The workspace agent runs beside the main container's workload
 * through an entrypoint wrapper copied into the container before it starts.
 */
public class DockerWorkspaceProvider implements WorkspaceProvider, AutoCloseable {

    static final String NAME = "docker";
    static final String WORKSPACE_LABEL = "atelier-workspace-id";
    static final String BUILD_LABEL = "atelier-build";
    static final String ROLE_LABEL = "atelier-role";
    static final String DEFAULT_COMMAND = "while :; do sleep 3600; done";
    private static final Logger log = LoggerFactory.getLogger(DockerWorkspaceProvider.class);
    private static final Pattern WORKSPACE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final String ENTRYPOINT = """
            #!/bin/sh
            # Written by Atelier: start the workspace agent beside the workload, then become the workload.
            if [ -r /.atelier/agent.sh ] && [ -r /.atelier/agent.env ]; then
              ( set -a; . /.atelier/agent.env; set +a; exec sh /.atelier/agent.sh ) >/dev/null 2>&1 </dev/null &
            fi
            exec "$@"
            """;

    private final DockerClient docker;
    private final DockerProviderProperties properties;
    private final ExecutorService pullExecutor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "docker-pull");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Future<?>> pulls = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    /** Addresses of the engine's database: a workspace never joins a network whose subnet holds one. */
    private final List<java.net.InetAddress> engineAddresses;

    public DockerWorkspaceProvider(DockerClient docker, DockerProviderProperties properties) {
        this(docker, properties, List.of());
    }

    public DockerWorkspaceProvider(DockerClient docker, DockerProviderProperties properties,
                                   List<java.net.InetAddress> engineAddresses) {
        this.docker = docker;
        this.properties = properties;
        this.engineAddresses = List.copyOf(engineAddresses);
        log.info("docker provider: daemon {}, ports published on {}", properties.effectiveHost(),
                properties.publishAddress());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        List<String> problems = new ArrayList<>(DockerSpec.parse(spec).problems());
        if (spec.get("network") instanceof String network && properties.deniedNetworks().contains(network)) {
            problems.add("network: workspaces may not join this network (atelier.providers.docker.denied-networks); "
                    + "it reaches the engine or its database");
        }
        return problems;
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        return locked(request, () -> ensure(request));
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        return locked(request, () -> ensure(request));
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        return locked(request, () -> {
            String[] op = operationId.split(":");
            return switch (op[0]) {
                case "pull" -> ensure(request);
                case "start" -> checkStarted(request, Instant.ofEpochMilli(Long.parseLong(op[2])));
                case "stop" -> checkStopped(request, Instant.ofEpochMilli(Long.parseLong(op[2])));
                default -> throw ProviderException.permanent("unknown docker operation " + operationId);
            };
        });
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        return locked(request, () -> {
            Names names = Names.of(request.workspaceId());
            for (Container c : containers(request.workspaceId())) {
                if ("running".equals(c.getState())) {
                    signal(c.getId(), "SIGTERM");
                }
            }
            Instant killAt = Instant.now().plus(properties.stopGracePeriod());
            return ProviderOperation.inProgress(names.main(), "stop:" + request.idempotencyKey() + ":"
                    + killAt.toEpochMilli(), Duration.ofMillis(300));
        });
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        return locked(request, () -> {
            String id = request.workspaceId();
            Names.of(id);
            call("remove the containers of workspace " + id, () -> {
                for (Container c : containers(id)) {
                    try {
                        docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
                    } catch (NotFoundException gone) {
                        // removed meanwhile
                    }
                }
                return null;
            });
            call("remove the volumes of workspace " + id, () -> {
                for (InspectVolumeResponse v : volumes(Map.of(WORKSPACE_LABEL, id))) {
                    try {
                        docker.removeVolumeCmd(v.getName()).exec();
                    } catch (NotFoundException gone) {
                        // removed meanwhile
                    }
                }
                return null;
            });
            call("remove the network of workspace " + id, () -> {
                for (Network n : networks(Map.of(WORKSPACE_LABEL, id))) {
                    try {
                        docker.removeNetworkCmd(n.getId()).exec();
                    } catch (NotFoundException gone) {
                        // removed meanwhile
                    }
                }
                return null;
            });
            log.info("docker workspace {}: containers, volumes and network removed", id);
            return ProviderOperation.done(null, Map.of());
        });
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        Names names = Names.of(request.workspaceId());
        InspectContainerResponse main = inspect(names.main());
        if (main == null) {
            return new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of());
        }
        Map<String, String> labels = main.getConfig().getLabels() == null ? Map.of() : main.getConfig().getLabels();
        ResourceDescription.State state = state(main.getState().getStatus());
        Map<String, String> connection = Map.of();
        if (state == ResourceDescription.State.RUNNING) {
            DockerSpec.Parsed parsed = DockerSpec.parse(request.spec());
            connection = connection(names, main, parsed.spec());
        }
        return new ResourceDescription(names.main(), state, labels, connection);
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        return call("list Atelier's containers, volumes and networks", () -> {
            List<ResourceDescription> found = new ArrayList<>();
            Map<String, String> filter = new TreeMap<>(labels);
            List<String> labelFilter = labelFilter(filter);
            List<Container> containers = docker.listContainersCmd().withShowAll(true).withLabelFilter(labelFilter).exec();
            for (Container c : containers) {
                String name = c.getNames() != null && c.getNames().length > 0 ? c.getNames()[0].replaceFirst("^/", "")
                        : c.getId();
                found.add(new ResourceDescription("container/" + name, state(c.getState()), c.getLabels(), Map.of()));
            }
            for (InspectVolumeResponse v : volumes(filter)) {
                found.add(new ResourceDescription("volume/" + v.getName(), ResourceDescription.State.UNKNOWN,
                        v.getLabels() == null ? Map.of() : v.getLabels(), Map.of()));
            }
            for (Network n : networks(filter)) {
                found.add(new ResourceDescription("network/" + n.getName(), ResourceDescription.State.UNKNOWN,
                        n.getLabels() == null ? Map.of() : n.getLabels(), Map.of()));
            }
            return found;
        });
    }

    @Override
    public void close() throws IOException {
        pullExecutor.shutdownNow();
        docker.close();
    }

    // --- create / start -------------------------------------------------------------------------------------

    private ProviderOperation ensure(ProvisionRequest request) {
        DockerSpec spec = spec(request);
        Names names = Names.of(request.workspaceId());
        String key = request.idempotencyKey();
        if (spec.network() != null && !spec.noNetwork()) {
            refuseEngineNetwork(spec.network());
        }

        Set<String> images = new LinkedHashSet<>();
        images.add(spec.main().image());
        spec.sidecars().forEach(s -> images.add(s.image()));
        boolean pulling = false;
        for (String image : images) {
            if (!imagePresent(image)) {
                pull(image);
                pulling = true;
            }
        }
        if (pulling) {
            return ProviderOperation.inProgress(names.main(), "pull:" + key, Duration.ofSeconds(2));
        }

        Map<String, String> labels = labels(request);
        if (!spec.noNetwork()) {
            ensureNetwork(names.network(), labels);
        }
        Set<String> volumes = new LinkedHashSet<>();
        volumes.add(DockerSpec.HOME_VOLUME);
        spec.main().volumes().forEach(v -> volumes.add(v.name()));
        spec.sidecars().forEach(s -> s.volumes().forEach(v -> volumes.add(v.name())));
        volumes.forEach(v -> ensureVolume(names.volume(v), labels));

        // Containers of sidecars that a newer template version dropped go.
        Set<String> wanted = new LinkedHashSet<>();
        wanted.add(names.main());
        spec.sidecars().forEach(s -> wanted.add(names.sidecar(s.name())));
        for (Container c : containers(request.workspaceId())) {
            if (Objects.requireNonNull(c.getNames()).length > 0
                    && !wanted.contains(c.getNames()[0].replaceFirst("^/", ""))) {
                remove(c.getId());
            }
        }
        for (DockerSpec.ContainerSpec sidecar : spec.sidecars()) {
            ensureContainer(names.sidecar(sidecar.name()), request, () -> createSidecar(names, sidecar, spec, request),
                    null);
        }
        ensureContainer(names.main(), request, () -> createMain(names, spec, request),
                id -> copyAgent(id, request.agent()));
        Instant launched = Instant.now();
        return ProviderOperation.inProgress(names.main(), "start:" + key + ":" + launched.toEpochMilli(),
                properties.readinessDelay());
    }

    /** Creates the container unless this build already made it, and starts it unless it runs. */
    private void ensureContainer(String name, ProvisionRequest request, java.util.function.Supplier<String> create,
                                 java.util.function.Consumer<String> beforeStart) {
        String build = Long.toString(request.buildNumber());
        InspectContainerResponse existing = inspect(name);
        String id;
        if (existing != null && build.equals(label(existing, BUILD_LABEL))
                && request.workspaceId().equals(label(existing, WORKSPACE_LABEL))) {
            id = existing.getId();
            if (Boolean.TRUE.equals(existing.getState().getRunning())) {
                return;
            }
        } else {
            if (existing != null) {
                if (!request.workspaceId().equals(label(existing, WORKSPACE_LABEL))) {
                    throw ProviderException.permanent("a container named " + name + " exists but does not belong to "
                            + "workspace " + request.workspaceId() + "; remove or rename it");
                }
                remove(existing.getId());
            }
            id = create.get();
            if (beforeStart != null) {
                beforeStart.accept(id);
            }
        }
        call("start container " + name, () -> {
            try {
                docker.startContainerCmd(id).exec();
            } catch (NotModifiedException alreadyRunning) {
                // a retry after a start that went through
            }
            return null;
        });
        log.info("docker workspace {} build {}: container {} started", request.workspaceId(), request.buildNumber(),
                name);
    }

    private String createMain(Names names, DockerSpec spec, ProvisionRequest request) {
        DockerSpec.ContainerSpec main = spec.main();
        List<String> command = main.command();
        if (command == null) {
            InspectImageResponse image = call("inspect image " + main.image(),
                    () -> docker.inspectImageCmd(main.image()).exec());
            command = new ArrayList<>();
            if (image.getConfig() != null) {
                if (image.getConfig().getEntrypoint() != null) {
                    command.addAll(List.of(image.getConfig().getEntrypoint()));
                }
                if (image.getConfig().getCmd() != null) {
                    command.addAll(List.of(image.getConfig().getCmd()));
                }
            }
            if (command.isEmpty()) {
                command = List.of("/bin/sh", "-c", DEFAULT_COMMAND);
            }
        }
        List<Bind> binds = new ArrayList<>();
        binds.add(new Bind(names.volume(DockerSpec.HOME_VOLUME), new Volume(spec.home())));
        main.volumes().forEach(v -> binds.add(bind(names, v)));

        Ports bindings = new Ports();
        List<ExposedPort> exposed = new ArrayList<>();
        for (DockerSpec.PortSpec p : spec.publishedPorts()) {
            ExposedPort port = p.protocol().equals("udp") ? ExposedPort.udp(p.containerPort())
                    : ExposedPort.tcp(p.containerPort());
            exposed.add(port);
            bindings.bind(port, p.hostPort() == 0 ? Ports.Binding.bindIp(properties.publishAddress())
                    : Ports.Binding.bindIpAndPort(properties.publishAddress(), p.hostPort()));
        }
        HostConfig host = limits(HostConfig.newHostConfig(), main)
                .withInit(true)
                .withBinds(binds)
                .withPortBindings(bindings)
                .withNetworkMode(spec.noNetwork() ? "none" : names.network());
        Map<String, String> labels = new LinkedHashMap<>(labels(request));
        labels.put(ROLE_LABEL, "main");
        List<String> finalCommand = command;
        String id = call("create container " + names.main(), () -> {
            CreateContainerCmd cmd = docker.createContainerCmd(main.image())
                    .withName(names.main())
                    .withHostName("workspace")
                    .withLabels(labels)
                    .withEnv(environment(request, main))
                    .withEntrypoint("/bin/sh", "/.atelier/entrypoint.sh")
                    .withCmd(finalCommand)
                    .withWorkingDir(spec.home())
                    .withExposedPorts(exposed)
                    .withHostConfig(host);
            if (!spec.noNetwork()) {
                cmd.withAliases("workspace");
            }
            return cmd.exec().getId();
        });
        if (spec.network() != null && !spec.noNetwork()) {
            call("connect " + names.main() + " to network " + spec.network(), () -> {
                try {
                    docker.connectToNetworkCmd().withNetworkId(spec.network()).withContainerId(id).exec();
                } catch (NotFoundException e) {
                    throw ProviderException.permanent("the template asks for Docker network '" + spec.network()
                            + "', which does not exist on " + properties.effectiveHost() + "; create it first");
                }
                return null;
            });
        }
        return id;
    }

    private String createSidecar(Names names, DockerSpec.ContainerSpec sidecar, DockerSpec spec,
                                 ProvisionRequest request) {
        List<Bind> binds = sidecar.volumes().stream().map(v -> bind(names, v)).toList();
        HostConfig host = limits(HostConfig.newHostConfig(), sidecar)
                .withInit(true)
                .withBinds(binds)
                .withNetworkMode(names.network());
        Map<String, String> labels = new LinkedHashMap<>(labels(request));
        labels.put(ROLE_LABEL, "sidecar");
        labels.put("atelier-sidecar", sidecar.name());
        return call("create container " + names.sidecar(sidecar.name()), () -> {
            CreateContainerCmd cmd = docker.createContainerCmd(sidecar.image())
                    .withName(names.sidecar(sidecar.name()))
                    .withHostName(sidecar.name())
                    .withLabels(labels)
                    .withEnv(environment(request, sidecar))
                    .withAliases(sidecar.name())
                    .withHostConfig(host);
            if (sidecar.command() != null) {
                cmd.withEntrypoint(sidecar.command().get(0))
                        .withCmd(sidecar.command().subList(1, sidecar.command().size()));
            }
            return cmd.exec().getId();
        });
    }

    private static HostConfig limits(HostConfig host, DockerSpec.ContainerSpec c) {
        if (c.memoryMb() != null) {
            long bytes = c.memoryMb() * 1024 * 1024;
            host.withMemory(bytes).withMemorySwap(bytes);
        }
        if (c.cpus() != null) {
            host.withNanoCPUs(Math.round(c.cpus() * 1_000_000_000d));
        }
        if (c.pidsLimit() != null) {
            host.withPidsLimit(c.pidsLimit());
        }
        return host;
    }

    private static Bind bind(Names names, DockerSpec.VolumeSpec v) {
        return new Bind(names.volume(v.name()), new Volume(v.mountPath()), v.readOnly() ? AccessMode.ro : AccessMode.rw);
    }

    /** What the workload sees: the workspace's identity, its parameters, and the template's env. */
    private static List<String> environment(ProvisionRequest request, DockerSpec.ContainerSpec c) {
        Map<String, String> env = new TreeMap<>();
        env.put("ATELIER_WORKSPACE_ID", request.workspaceId());
        env.put("ATELIER_BUILD", Long.toString(request.buildNumber()));
        if (request.owner() != null) {
            env.put("ATELIER_WORKSPACE_OWNER", request.owner());
        }
        request.parameters().forEach((k, v) -> env.put("ATELIER_PARAM_" + k.toUpperCase(Locale.ROOT), v));
        env.putAll(c.env());
        return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    /**
     * Copies the entrypoint wrapper and the agent (script and environment, with its token) into the created
     * container. The token goes into a file, not into the container's configuration, so that it does not show in
     * {@code docker inspect}.
     */
    private void copyAgent(String containerId, WorkspaceAgent agent) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry dir = new TarArchiveEntry(".atelier/");
            dir.setMode(040755);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            addFile(tar, ".atelier/entrypoint.sh", ENTRYPOINT, 0100755);
            if (agent != null) {
                addFile(tar, ".atelier/agent.sh", agent.script(), 0100755);
                StringBuilder env = new StringBuilder("# Written by Atelier for the workspace agent.\n");
                new TreeMap<>(agent.environment()).forEach((k, v) -> {
                    if (!SpecEnvironment.NAME.matcher(k).matches()) {
                        throw ProviderException.permanent("invalid agent variable name " + k);
                    }
                    env.append(k).append('=').append(shellQuote(v)).append('\n');
                });
                // Readable by the workspace's own user (the image may not run as root); it is the workspace's token.
                addFile(tar, ".atelier/agent.env", env.toString(), 0100644);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        call("copy the workspace agent into the container", () -> {
            docker.copyArchiveToContainerCmd(containerId).withRemotePath("/")
                    .withTarInputStream(new ByteArrayInputStream(bytes.toByteArray())).exec();
            return null;
        });
    }

    private static void addFile(TarArchiveOutputStream tar, String name, String content, int mode) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(data.length);
        entry.setMode(mode);
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    static String shellQuote(String value) {
        return "'" + value.replace("'", "'\"'\"'") + "'";
    }

    private ProviderOperation checkStarted(ProvisionRequest request, Instant launched) {
        DockerSpec spec = spec(request);
        Names names = Names.of(request.workspaceId());
        for (DockerSpec.ContainerSpec sidecar : spec.sidecars()) {
            requireRunning(names.sidecar(sidecar.name()), "sidecar " + sidecar.name());
        }
        InspectContainerResponse main = requireRunning(names.main(), "main container");
        if (Duration.between(launched, Instant.now()).compareTo(properties.readinessDelay()) < 0) {
            return ProviderOperation.inProgress(names.main(), "start:" + request.idempotencyKey() + ":"
                    + launched.toEpochMilli(), Duration.ofMillis(200));
        }
        return ProviderOperation.done(names.main(), connection(names, main, spec));
    }

    private InspectContainerResponse requireRunning(String name, String what) {
        InspectContainerResponse c = inspect(name);
        if (c == null) {
            throw ProviderException.permanent("the " + what + " (" + name + ") disappeared while starting");
        }
        if (!Boolean.TRUE.equals(c.getState().getRunning())) {
            Long code = c.getState().getExitCodeLong();
            String error = c.getState().getError();
            throw ProviderException.permanent("the " + what + " (" + name + ") stopped while starting"
                    + (code != null ? " with exit code " + code : "")
                    + (error != null && !error.isBlank() ? " (" + error + ")" : "")
                    + "; a workspace container must keep running. Last output: " + logTail(c.getId()));
        }
        return c;
    }

    private ProviderOperation checkStopped(ProvisionRequest request, Instant killAt) {
        Names names = Names.of(request.workspaceId());
        List<Container> running = containers(request.workspaceId()).stream()
                .filter(c -> "running".equals(c.getState()) || "stopping".equals(c.getState())).toList();
        if (running.isEmpty()) {
            log.info("docker workspace {}: containers stopped", request.workspaceId());
            return ProviderOperation.done(names.main(), Map.of());
        }
        if (Instant.now().isAfter(killAt)) {
            log.info("docker workspace {}: {} container(s) still running after {}; killing them",
                    request.workspaceId(), running.size(), properties.stopGracePeriod());
            running.forEach(c -> signal(c.getId(), "SIGKILL"));
        }
        return ProviderOperation.inProgress(names.main(), "stop:" + request.idempotencyKey() + ":"
                + killAt.toEpochMilli(), Duration.ofMillis(300));
    }

    private Map<String, String> connection(Names names, InspectContainerResponse main, DockerSpec spec) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("type", "docker");
        c.put("dockerHost", properties.effectiveHost());
        c.put("container", names.main());
        c.put("exec", "docker -H " + properties.effectiveHost() + " exec -it " + names.main() + " /bin/sh");
        if (!spec.noNetwork()) {
            c.put("network", names.network());
        }
        Map<ExposedPort, Ports.Binding[]> bound = main.getNetworkSettings() == null
                || main.getNetworkSettings().getPorts() == null ? Map.of()
                : main.getNetworkSettings().getPorts().getBindings();
        String host = properties.effectiveConnectionHost();
        for (DockerSpec.PortSpec p : spec.publishedPorts()) {
            ExposedPort port = p.protocol().equals("udp") ? ExposedPort.udp(p.containerPort())
                    : ExposedPort.tcp(p.containerPort());
            Ports.Binding[] b = bound.get(port);
            if (b != null && b.length > 0 && b[0].getHostPortSpec() != null) {
                String hostPort = b[0].getHostPortSpec();
                c.put("port." + p.containerPort() + (p.protocol().equals("udp") ? "/udp" : ""), host + ":" + hostPort);
                if (spec.ssh() != null && p.containerPort() == spec.ssh().port() && p.protocol().equals("tcp")) {
                    c.put("sshHost", host);
                    c.put("sshPort", hostPort);
                    c.put("sshUser", spec.ssh().user());
                }
            }
        }
        return c;
    }

    // --- Docker objects -------------------------------------------------------------------------------------

    private boolean imagePresent(String image) {
        try {
            docker.inspectImageCmd(image).exec();
            pulls.remove(image);
            return true;
        } catch (NotFoundException e) {
            return false;
        } catch (RuntimeException e) {
            throw translate("inspect image " + image, e);
        }
    }

    /** Pulls in the background; a failed pull fails the transition with the daemon's words. */
    private void pull(String image) {
        Future<?> pull = pulls.computeIfAbsent(image, i -> pullExecutor.submit(() -> {
            log.info("docker provider: pulling {}", i);
            try {
                if (!docker.pullImageCmd(i).exec(new PullImageResultCallback())
                        .awaitCompletion(properties.pullTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("the pull did not finish within " + properties.pullTimeout());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
            return null;
        }));
        if (pull.isDone()) {
            pulls.remove(image);
            try {
                pull.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                String detail = cause instanceof DockerException d && d.getMessage() != null ? d.getMessage()
                        : String.valueOf(cause.getMessage());
                throw ProviderException.permanent("could not pull image " + image + " on "
                        + properties.effectiveHost() + ": " + detail.trim());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void ensureNetwork(String name, Map<String, String> labels) {
        call("create network " + name, () -> {
            try {
                docker.inspectNetworkCmd().withNetworkId(name).exec();
            } catch (NotFoundException missing) {
                try {
                    docker.createNetworkCmd().withName(name).withDriver("bridge").withLabels(labels)
                            .withCheckDuplicate(true).exec();
                } catch (ConflictException raced) {
                    // made by a concurrent attempt
                }
            }
            return null;
        });
    }

    private void ensureVolume(String name, Map<String, String> labels) {
        call("create volume " + name, () -> {
            try {
                docker.inspectVolumeCmd(name).exec();
            } catch (NotFoundException missing) {
                docker.createVolumeCmd().withName(name).withLabels(labels).exec();
            }
            return null;
        });
    }

    private InspectContainerResponse inspect(String name) {
        try {
            return docker.inspectContainerCmd(name).exec();
        } catch (NotFoundException e) {
            return null;
        } catch (RuntimeException e) {
            throw translate("inspect container " + name, e);
        }
    }

    private void remove(String containerId) {
        call("remove container " + containerId, () -> {
            try {
                docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
            } catch (NotFoundException gone) {
                // removed meanwhile
            }
            return null;
        });
    }

    private void signal(String containerId, String signal) {
        try {
            docker.killContainerCmd(containerId).withSignal(signal).exec();
        } catch (NotFoundException | ConflictException notRunning) {
            // already stopped or gone
        } catch (RuntimeException e) {
            throw translate("send " + signal + " to container " + containerId, e);
        }
    }

    private List<Container> containers(String workspaceId) {
        return call("list the containers of workspace " + workspaceId, () -> docker.listContainersCmd()
                .withShowAll(true).withLabelFilter(Map.of(WORKSPACE_LABEL, workspaceId)).exec());
    }

    private List<InspectVolumeResponse> volumes(Map<String, String> labels) {
        List<InspectVolumeResponse> found = call("list volumes", () -> docker.listVolumesCmd()
                .withFilter("label", labelFilter(labels)).exec().getVolumes());
        // Filter again: not every daemon applies several label filters as "all of".
        return found == null ? List.of() : found.stream().filter(v -> hasAll(v.getLabels(), labels)).toList();
    }

    private List<Network> networks(Map<String, String> labels) {
        List<Network> found = call("list networks", () -> docker.listNetworksCmd()
                .withFilter("label", labelFilter(labels)).exec());
        return found.stream().filter(n -> hasAll(n.getLabels(), labels)).toList();
    }

    private static List<String> labelFilter(Map<String, String> labels) {
        List<String> filter = new ArrayList<>();
        filter.add(WORKSPACE_LABEL);
        labels.forEach((k, v) -> filter.add(k + "=" + v));
        return filter;
    }

    private static boolean hasAll(Map<String, String> actual, Map<String, String> wanted) {
        return actual != null && actual.containsKey(WORKSPACE_LABEL) && actual.entrySet().containsAll(wanted.entrySet());
    }

    private String logTail(String containerId) {
        StringBuilder out = new StringBuilder();
        try {
            docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true).withTail(10)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            if (out.length() < 2000) {
                                out.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
                            }
                        }
                    }).awaitCompletion(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            return "(logs unavailable: " + e.getMessage() + ")";
        }
        String text = out.toString().strip();
        return text.isEmpty() ? "(none)" : text;
    }

    private static ResourceDescription.State state(String status) {
        if (status == null) {
            return ResourceDescription.State.UNKNOWN;
        }
        return switch (status) {
            case "running", "paused", "restarting" -> ResourceDescription.State.RUNNING;
            case "created", "configured", "initialized" -> ResourceDescription.State.PROVISIONING;
            case "exited", "stopped" -> ResourceDescription.State.STOPPED;
            case "dead" -> ResourceDescription.State.FAILED;
            default -> ResourceDescription.State.UNKNOWN;
        };
    }

    private static String label(InspectContainerResponse c, String key) {
        return c.getConfig() == null || c.getConfig().getLabels() == null ? null : c.getConfig().getLabels().get(key);
    }

    /**
     * A workspace never joins a network that reaches the engine's database: one the operator listed, or one whose
     * subnet holds the database's address. Checked before anything of the workspace is made.
     */
    private void refuseEngineNetwork(String network) {
        if (properties.deniedNetworks().contains(network)) {
            throw ProviderException.permanent("the template's network is one workspaces may not join "
                    + "(atelier.providers.docker.denied-networks): it reaches the engine or its database");
        }
        if (engineAddresses.isEmpty()) {
            return;
        }
        com.github.dockerjava.api.model.Network found = call("inspect network " + network, () -> {
            try {
                return docker.inspectNetworkCmd().withNetworkId(network).exec();
            } catch (NotFoundException e) {
                return null;
            }
        });
        if (found == null || found.getIpam() == null || found.getIpam().getConfig() == null) {
            return; // a missing network fails when it is joined, with its own message
        }
        for (var config : found.getIpam().getConfig()) {
            if (config.getSubnet() == null) {
                continue;
            }
            dev.atelier.provider.IpRange subnet = dev.atelier.provider.IpRange.parse(config.getSubnet());
            for (java.net.InetAddress address : engineAddresses) {
                if (subnet.contains(address)) {
                    throw ProviderException.permanent("the template's network has the subnet " + subnet + ", which "
                            + "holds the engine's database (" + address.getHostAddress() + "); workspaces never join it");
                }
            }
        }
    }

    private static Map<String, String> labels(ProvisionRequest request) {
        Map<String, String> labels = new LinkedHashMap<>(request.labels());
        labels.putIfAbsent(WORKSPACE_LABEL, request.workspaceId());
        labels.putIfAbsent(BUILD_LABEL, Long.toString(request.buildNumber()));
        return labels;
    }

    private static DockerSpec spec(ProvisionRequest request) {
        DockerSpec.Parsed parsed = DockerSpec.parse(request.spec());
        if (parsed.spec() == null) {
            throw ProviderException.permanent("invalid docker spec: " + String.join("; ", parsed.problems()));
        }
        return parsed.spec();
    }

    private <T> T locked(ProvisionRequest request, java.util.function.Supplier<T> action) {
        synchronized (locks.computeIfAbsent(request.workspaceId(), k -> new Object())) {
            return action.get();
        }
    }

    private <T> T call(String what, java.util.concurrent.Callable<T> action) {
        try {
            return action.call();
        } catch (ProviderException e) {
            throw e;
        } catch (RuntimeException e) {
            throw translate(what, e);
        } catch (Exception e) {
            throw ProviderException.retryable("could not " + what + ": " + e.getMessage(), e);
        }
    }

    /**
     * The daemon's 5xx answers and connection problems may pass: retryable. Its 4xx answers will not: permanent,
     * with its message, which names the problem (no such image, name in use, invalid value).
     */
    private ProviderException translate(String what, RuntimeException e) {
        if (e instanceof ProviderException p) {
            return p;
        }
        if (e instanceof DockerException d) {
            String message = d.getMessage() == null ? "" : d.getMessage().trim();
            if (message.contains("no such file or directory") && message.contains("/bin/sh")) {
                return ProviderException.permanent("could not " + what + ": the image has no /bin/sh, which the "
                        + "workspace's entrypoint wrapper needs: " + message);
            }
            if (d.getHttpStatus() >= 500 || d.getHttpStatus() == 0) {
                return ProviderException.retryable("could not " + what + " on " + properties.effectiveHost() + ": "
                        + message, e);
            }
            return new ProviderException("could not " + what + ": " + message, false, e);
        }
        return ProviderException.retryable("could not " + what + ": the Docker daemon at " + properties.effectiveHost()
                + " did not answer (" + rootMessage(e) + ")", e);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() != null ? ": " + root.getMessage() : "");
    }

    /** Deterministic object names of a workspace. */
    record Names(String workspaceId) {

        static Names of(String workspaceId) {
            if (workspaceId == null || !WORKSPACE_ID.matcher(workspaceId).matches()) {
                throw ProviderException.permanent("invalid workspace id '" + workspaceId + "' for docker object names");
            }
            return new Names(workspaceId);
        }

        String main() {
            return "atelier-" + workspaceId;
        }

        String sidecar(String name) {
            return "atelier-" + workspaceId + "-" + name;
        }

        String network() {
            return "atelier-" + workspaceId;
        }

        String volume(String name) {
            return "atelier-" + workspaceId + "-" + name;
        }
    }
}
