package dev.atelier.providers.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Network;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.provider.WorkspaceShell;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Workspaces as containers on a Docker Engine API (Docker, or podman's compatible API). A workspace is a main
 * container plus optional sidecars ({@link WorkspaceContainers}) on a network of its own ({@link WorkspaceNetwork}),
 * a home volume and further named volumes. Names are derived from the workspace id ({@link DockerNames}), so a
 * retried call finds what an earlier attempt made; every object carries the {@code atelier-workspace-id} and
 * {@code atelier-build} labels.
 *
 * <p>The lifecycle: create and start pull missing images in the background ({@link ImagePuller}, polled as
 * {@code pull}), then replace the containers with fresh ones from the current template version, so that its
 * environment, parameters and agent token apply ({@link AgentInjection}), while volumes and the network persist; the
 * start is polled until the main container has kept running for the readiness delay ({@code start}). Stop sends
 * SIGTERM and polls until the containers are down, with SIGKILL after the grace period ({@code stop}). Delete removes
 * containers, volumes and network. Calls for one workspace run one at a time.
 */
public class DockerWorkspaceProvider implements WorkspaceProvider, WorkspaceShell, AutoCloseable {

    static final String NAME = "docker";
    static final String WORKSPACE_LABEL = "atelier-workspace-id";
    static final String BUILD_LABEL = "atelier-build";
    static final String ROLE_LABEL = "atelier-role";
    /** The operations polled: pulling images, waiting for the start to hold, waiting for the stop. */
    private static final String PULL = "pull";
    private static final String START = "start";
    private static final String STOP = "stop";
    private static final Logger log = LoggerFactory.getLogger(DockerWorkspaceProvider.class);

    private final DockerApi api;
    private final DockerShells shells;
    private final DockerProviderProperties properties;
    private final ImagePuller images;
    private final WorkspaceContainers containers;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    /** Addresses of the engine's database: a workspace never joins a network whose subnet holds one. */
    private final List<java.net.InetAddress> engineAddresses;

    public DockerWorkspaceProvider(DockerClient docker, DockerProviderProperties properties) {
        this(docker, properties, List.of());
    }

    public DockerWorkspaceProvider(DockerClient docker, DockerProviderProperties properties,
                                   List<java.net.InetAddress> engineAddresses) {
        this.engineAddresses = List.copyOf(engineAddresses);
        this.api = new DockerApi(docker, properties.effectiveHost());
        this.shells = new DockerShells(docker, ExecConnection.supports(properties.effectiveHost(), properties.tlsVerify()));
        this.properties = properties;
        this.images = new ImagePuller(api, properties.pullTimeout());
        this.containers = new WorkspaceContainers(api, properties);
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
            OperationId operation = OperationId.parse(NAME, operationId, OperationId::fromKindKeyMillis);
            return switch (operation.kind()) {
                case PULL -> ensure(request);
                case START -> checkStarted(request, operation.requireAt());
                case STOP -> checkStopped(request, operation.requireAt());
                default -> throw ProviderException.permanent("unknown docker operation " + operationId);
            };
        });
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        return locked(request, () -> {
            DockerNames names = DockerNames.of(request.workspaceId());
            for (Container c : api.containers(request.workspaceId())) {
                if ("running".equals(c.getState())) {
                    api.signal(c.getId(), "SIGTERM");
                }
            }
            Instant killAt = Instant.now().plus(properties.stopGracePeriod());
            return ProviderOperation.inProgress(names.main(), OperationId.attempt(STOP, request, killAt),
                    Duration.ofMillis(300));
        });
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        return locked(request, () -> {
            String id = DockerNames.of(request.workspaceId()).workspaceId();
            api.removeContainers(id);
            api.removeVolumes(id);
            api.removeNetworks(id);
            log.info("docker workspace {}: containers, volumes and network removed", id);
            return ProviderOperation.done(null, Map.of());
        });
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        DockerNames names = DockerNames.of(request.workspaceId());
        InspectContainerResponse main = api.inspect(names.main());
        if (main == null) {
            return new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of());
        }
        Map<String, String> labels = main.getConfig().getLabels() == null ? Map.of() : main.getConfig().getLabels();
        ResourceDescription.State state = state(main.getState().getStatus());
        Map<String, String> connection = Map.of();
        if (state == ResourceDescription.State.RUNNING) {
            DockerSpec.Parsed parsed = DockerSpec.parse(request.spec());
            connection = containers.connection(names, main, parsed.spec());
        }
        return new ResourceDescription(names.main(), state, labels, connection);
    }

    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        return api.call("list Atelier's containers, volumes and networks", () -> {
            List<ResourceDescription> found = new ArrayList<>();
            Map<String, String> filter = new TreeMap<>(labels);
            for (Container c : api.containers(filter)) {
                found.add(new ResourceDescription("container/" + containerName(c), state(c.getState()), c.getLabels(),
                        Map.of()));
            }
            for (InspectVolumeResponse v : api.volumes(filter)) {
                found.add(new ResourceDescription("volume/" + v.getName(), ResourceDescription.State.UNKNOWN,
                        v.getLabels() == null ? Map.of() : v.getLabels(), Map.of()));
            }
            for (Network n : api.networks(filter)) {
                found.add(new ResourceDescription("network/" + n.getName(), ResourceDescription.State.UNKNOWN,
                        n.getLabels() == null ? Map.of() : n.getLabels(), Map.of()));
            }
            return found;
        });
    }

    @Override
    public void close() throws IOException {
        images.close();
        api.close();
    }

    /** A process in the workspace's main container (exec), for the SSH gateway. */
    @Override
    public ShellProcess open(Target target, ShellRequest request) {
        return shells.open(DockerNames.of(target.workspaceId()).main(), request);
    }

    /** A connection to a port as the main container sees it, through a relay exec'd in the container. */
    @Override
    public ShellProcess connect(Target target, String host, int port) {
        return shells.connect(DockerNames.of(target.workspaceId()).main(), host, port);
    }

    // --- create / start -------------------------------------------------------------------------------------

    private ProviderOperation ensure(ProvisionRequest request) {
        DockerSpec spec = spec(request);
        DockerNames names = DockerNames.of(request.workspaceId());
        WorkspaceNetwork network = WorkspaceNetwork.of(spec, names);
        network.refuseReachingEngine(api, properties.deniedNetworks(), engineAddresses);
        Set<String> wantedImages = new LinkedHashSet<>();
        wantedImages.add(spec.main().image());
        spec.sidecars().forEach(s -> wantedImages.add(s.image()));
        if (!images.ready(wantedImages)) {
            return ProviderOperation.inProgress(names.main(), OperationId.attempt(PULL, request, null),
                    Duration.ofSeconds(2));
        }

        Map<String, String> labels = WorkspaceContainers.labels(request);
        network.toCreate().ifPresent(own -> api.ensureNetwork(own, labels));
        Set<String> volumes = new LinkedHashSet<>();
        volumes.add(DockerSpec.HOME_VOLUME);
        spec.main().volumes().forEach(v -> volumes.add(v.name()));
        spec.sidecars().forEach(s -> s.volumes().forEach(v -> volumes.add(v.name())));
        volumes.forEach(v -> api.ensureVolume(names.volume(v), labels));

        // Containers of sidecars that a newer template version dropped go.
        Set<String> wanted = new LinkedHashSet<>();
        wanted.add(names.main());
        spec.sidecars().forEach(s -> wanted.add(names.sidecar(s.name())));
        for (Container c : api.containers(request.workspaceId())) {
            if (Objects.requireNonNull(c.getNames()).length > 0 && !wanted.contains(containerName(c))) {
                api.remove(c.getId());
            }
        }
        for (DockerSpec.ContainerSpec sidecar : spec.sidecars()) {
            ensureContainer(names.sidecar(sidecar.name()), request,
                    () -> containers.createSidecar(names, sidecar, spec, request), null);
        }
        ensureContainer(names.main(), request, () -> containers.createMain(names, spec, request),
                id -> AgentInjection.copyInto(api, id, request.agent()));
        return ProviderOperation.inProgress(names.main(), OperationId.attempt(START, request, Instant.now()),
                properties.readinessDelay());
    }

    /** Creates the container unless this build already made it, and starts it unless it runs. */
    private void ensureContainer(String name, ProvisionRequest request, Supplier<String> create,
                                 Consumer<String> beforeStart) {
        String build = Long.toString(request.buildNumber());
        InspectContainerResponse existing = api.inspect(name);
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
                api.remove(existing.getId());
            }
            id = create.get();
            if (beforeStart != null) {
                beforeStart.accept(id);
            }
        }
        api.start(name, id);
        log.info("docker workspace {} build {}: container {} started", request.workspaceId(), request.buildNumber(),
                name);
    }

    private ProviderOperation checkStarted(ProvisionRequest request, Instant launched) {
        DockerSpec spec = spec(request);
        DockerNames names = DockerNames.of(request.workspaceId());
        for (DockerSpec.ContainerSpec sidecar : spec.sidecars()) {
            requireRunning(names.sidecar(sidecar.name()), "sidecar " + sidecar.name());
        }
        InspectContainerResponse main = requireRunning(names.main(), "main container");
        if (Duration.between(launched, Instant.now()).compareTo(properties.readinessDelay()) < 0) {
            return ProviderOperation.inProgress(names.main(), OperationId.attempt(START, request, launched),
                    Duration.ofMillis(200));
        }
        return ProviderOperation.done(names.main(), containers.connection(names, main, spec));
    }

    private InspectContainerResponse requireRunning(String name, String what) {
        InspectContainerResponse c = api.inspect(name);
        if (c == null) {
            throw ProviderException.permanent("the " + what + " (" + name + ") disappeared while starting");
        }
        if (!Boolean.TRUE.equals(c.getState().getRunning())) {
            Long code = c.getState().getExitCodeLong();
            String error = c.getState().getError();
            throw ProviderException.permanent("the " + what + " (" + name + ") stopped while starting"
                    + (code != null ? " with exit code " + code : "")
                    + (error != null && !error.isBlank() ? " (" + error + ")" : "")
                    + "; a workspace container must keep running. Last output: " + api.logTail(c.getId()));
        }
        return c;
    }

    // --- stop -----------------------------------------------------------------------------------------------

    private ProviderOperation checkStopped(ProvisionRequest request, Instant killAt) {
        DockerNames names = DockerNames.of(request.workspaceId());
        List<Container> running = api.containers(request.workspaceId()).stream()
                .filter(c -> "running".equals(c.getState()) || "stopping".equals(c.getState())).toList();
        if (running.isEmpty()) {
            log.info("docker workspace {}: containers stopped", request.workspaceId());
            return ProviderOperation.done(names.main(), Map.of());
        }
        if (Instant.now().isAfter(killAt)) {
            log.info("docker workspace {}: {} container(s) still running after {}; killing them",
                    request.workspaceId(), running.size(), properties.stopGracePeriod());
            running.forEach(c -> api.signal(c.getId(), "SIGKILL"));
        }
        return ProviderOperation.inProgress(names.main(), OperationId.attempt(STOP, request, killAt),
                Duration.ofMillis(300));
    }

    // --- plumbing -------------------------------------------------------------------------------------------

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

    private static String containerName(Container c) {
        return c.getNames() != null && c.getNames().length > 0 ? c.getNames()[0].replaceFirst("^/", "") : c.getId();
    }

    private static String label(InspectContainerResponse c, String key) {
        return c.getConfig() == null || c.getConfig().getLabels() == null ? null : c.getConfig().getLabels().get(key);
    }

    private static DockerSpec spec(ProvisionRequest request) {
        DockerSpec.Parsed parsed = DockerSpec.parse(request.spec());
        if (parsed.spec() == null) {
            throw ProviderException.permanent("invalid docker spec: " + String.join("; ", parsed.problems()));
        }
        return parsed.spec();
    }

    private <T> T locked(ProvisionRequest request, Supplier<T> action) {
        synchronized (locks.computeIfAbsent(request.workspaceId(), k -> new Object())) {
            return action.get();
        }
    }
}
