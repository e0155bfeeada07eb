package dev.atelier.providers.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.Volume;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProvisionRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.atelier.providers.docker.DockerWorkspaceProvider.BUILD_LABEL;
import static dev.atelier.providers.docker.DockerWorkspaceProvider.ROLE_LABEL;
import static dev.atelier.providers.docker.DockerWorkspaceProvider.WORKSPACE_LABEL;

/**
 * The containers of a workspace as the template version of a build describes them: the main container (the
 * workload behind the agent's entrypoint wrapper, the home volume and further volumes, published ports, limits,
 * init process) and its sidecars; and how a running main container reads back as connection info. Which networks
 * they join is {@link WorkspaceNetwork}'s to say.
 */
final class WorkspaceContainers {

    static final String DEFAULT_COMMAND = "while :; do sleep 3600; done";

    private final DockerApi api;
    private final DockerProviderProperties properties;

    WorkspaceContainers(DockerApi api, DockerProviderProperties properties) {
        this.api = api;
        this.properties = properties;
    }

    /** Creates the main container (not started); its id. */
    String createMain(DockerNames names, DockerSpec spec, ProvisionRequest request) {
        DockerSpec.ContainerSpec main = spec.main();
        List<String> command = main.command() != null ? main.command() : imageCommand(main.image());
        List<Bind> binds = new ArrayList<>();
        binds.add(new Bind(names.volume(DockerSpec.HOME_VOLUME), new Volume(spec.home())));
        main.volumes().forEach(v -> binds.add(bind(names, v)));

        Ports bindings = new Ports();
        List<ExposedPort> exposed = new ArrayList<>();
        for (DockerSpec.PortSpec p : spec.publishedPorts()) {
            ExposedPort port = exposedPort(p);
            exposed.add(port);
            bindings.bind(port, p.hostPort() == 0 ? Ports.Binding.bindIp(properties.publishAddress())
                    : Ports.Binding.bindIpAndPort(properties.publishAddress(), p.hostPort()));
        }
        WorkspaceNetwork network = WorkspaceNetwork.of(spec, names);
        HostConfig host = limits(HostConfig.newHostConfig(), main)
                .withInit(true)
                .withBinds(binds)
                .withPortBindings(bindings)
                .withNetworkMode(network.mainMode());
        Map<String, String> labels = labels(request);
        labels.put(ROLE_LABEL, "main");
        String id = api.create(names.main(), main.image(), cmd -> {
            cmd.withHostName(WorkspaceNetwork.MAIN_ALIAS)
                    .withLabels(labels)
                    .withEnv(environment(request, main))
                    .withEntrypoint(AgentInjection.ENTRYPOINT)
                    .withCmd(command)
                    .withWorkingDir(spec.home())
                    .withExposedPorts(exposed)
                    .withHostConfig(host);
            network.mainAlias().ifPresent(cmd::withAliases);
        });
        network.mainAlsoJoins().ifPresent(extra -> api.connect(names.main(), id, extra));
        return id;
    }

    /** Creates a sidecar (not started); its id. */
    String createSidecar(DockerNames names, DockerSpec.ContainerSpec sidecar, DockerSpec spec, ProvisionRequest request) {
        List<Bind> binds = sidecar.volumes().stream().map(v -> bind(names, v)).toList();
        HostConfig host = limits(HostConfig.newHostConfig(), sidecar)
                .withInit(true)
                .withBinds(binds)
                .withNetworkMode(WorkspaceNetwork.of(spec, names).sidecarMode());
        Map<String, String> labels = labels(request);
        labels.put(ROLE_LABEL, "sidecar");
        labels.put("atelier-sidecar", sidecar.name());
        return api.create(names.sidecar(sidecar.name()), sidecar.image(), cmd -> {
            cmd.withHostName(sidecar.name())
                    .withLabels(labels)
                    .withEnv(environment(request, sidecar))
                    .withAliases(sidecar.name())
                    .withHostConfig(host);
            if (sidecar.command() != null) {
                cmd.withEntrypoint(sidecar.command().get(0))
                        .withCmd(sidecar.command().subList(1, sidecar.command().size()));
            }
        });
    }

    /** How users reach a running workspace: exec into the main container, its network, published ports, SSH. */
    Map<String, String> connection(DockerNames names, InspectContainerResponse main, DockerSpec spec) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("type", "docker");
        c.put("dockerHost", properties.effectiveHost());
        c.put("container", names.main());
        c.put("exec", "docker -H " + properties.effectiveHost() + " exec -it " + names.main() + " /bin/sh");
        WorkspaceNetwork.of(spec, names).toCreate().ifPresent(network -> c.put("network", network));
        Map<ExposedPort, Ports.Binding[]> bound = main.getNetworkSettings() == null
                || main.getNetworkSettings().getPorts() == null ? Map.of()
                : main.getNetworkSettings().getPorts().getBindings();
        String host = properties.effectiveConnectionHost();
        for (DockerSpec.PortSpec p : spec.publishedPorts()) {
            Ports.Binding[] b = bound.get(exposedPort(p));
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

    /** The labels every object of the build carries: the request's, and the workspace id and build. */
    static Map<String, String> labels(ProvisionRequest request) {
        Map<String, String> labels = new LinkedHashMap<>(request.labels());
        labels.putIfAbsent(WORKSPACE_LABEL, request.workspaceId());
        labels.putIfAbsent(BUILD_LABEL, Long.toString(request.buildNumber()));
        return labels;
    }

    /** The image's own entrypoint and command, which the wrapper runs; a shell that waits when it has none. */
    private List<String> imageCommand(String imageName) {
        InspectImageResponse image = api.image(imageName);
        if (image == null) {
            throw ProviderException.permanent("could not inspect image " + imageName + ": it is not on " + api.host());
        }
        List<String> command = new ArrayList<>();
        if (image.getConfig() != null) {
            if (image.getConfig().getEntrypoint() != null) {
                command.addAll(List.of(image.getConfig().getEntrypoint()));
            }
            if (image.getConfig().getCmd() != null) {
                command.addAll(List.of(image.getConfig().getCmd()));
            }
        }
        return command.isEmpty() ? List.of("/bin/sh", "-c", DEFAULT_COMMAND) : command;
    }

    private static ExposedPort exposedPort(DockerSpec.PortSpec p) {
        return p.protocol().equals("udp") ? ExposedPort.udp(p.containerPort()) : ExposedPort.tcp(p.containerPort());
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

    private static Bind bind(DockerNames names, DockerSpec.VolumeSpec v) {
        return new Bind(names.volume(v.name()), new Volume(v.mountPath()), v.readOnly() ? AccessMode.ro : AccessMode.rw);
    }

    /** What the workload sees: the workspace's identity, its parameters, and the template's env. */
    private static List<String> environment(ProvisionRequest request, DockerSpec.ContainerSpec c) {
        Map<String, String> env = new TreeMap<>(request.workspaceEnvironment());
        env.putAll(c.env());
        return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }
}
