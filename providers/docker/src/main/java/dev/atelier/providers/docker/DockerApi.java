package dev.atelier.providers.docker;

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
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.Network;
import dev.atelier.provider.ProviderException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static dev.atelier.providers.docker.DockerWorkspaceProvider.WORKSPACE_LABEL;

/**
 * The Docker Engine API calls the provider makes, through docker-java, each in the words of what it does for a
 * workspace: "already there" and "already gone" answers count as success (every call is safe to repeat), and every
 * failure becomes a {@link ProviderException} that says whether a retry may help ({@link #translate}).
 */
final class DockerApi implements AutoCloseable {

    private final DockerClient docker;
    private final String host;

    /** @param host the daemon's address, for messages */
    DockerApi(DockerClient docker, String host) {
        this.docker = docker;
        this.host = host;
    }

    String host() {
        return host;
    }

    // --- containers

    /** The container, or null when there is none of that name. */
    InspectContainerResponse inspect(String name) {
        try {
            return docker.inspectContainerCmd(name).exec();
        } catch (NotFoundException e) {
            return null;
        } catch (RuntimeException e) {
            throw translate("inspect container " + name, e);
        }
    }

    /** Creates a container named {@code name} from {@code image}, configured by {@code configure}; its id. */
    String create(String name, String image, Consumer<CreateContainerCmd> configure) {
        return call("create container " + name, () -> {
            CreateContainerCmd cmd = docker.createContainerCmd(image).withName(name);
            configure.accept(cmd);
            return cmd.exec().getId();
        });
    }

    void start(String name, String containerId) {
        call("start container " + name, () -> {
            try {
                docker.startContainerCmd(containerId).exec();
            } catch (NotModifiedException alreadyRunning) {
                // a retry after a start that went through
            }
            return null;
        });
    }

    void remove(String containerId) {
        call("remove container " + containerId, () -> {
            removeQuietly(containerId);
            return null;
        });
    }

    void signal(String containerId, String signal) {
        try {
            docker.killContainerCmd(containerId).withSignal(signal).exec();
        } catch (NotFoundException | ConflictException notRunning) {
            // already stopped or gone
        } catch (RuntimeException e) {
            throw translate("send " + signal + " to container " + containerId, e);
        }
    }

    /** Copies a tar archive into the container's root, before it starts. */
    void copyArchive(String containerId, byte[] tar, String what) {
        call(what, () -> {
            docker.copyArchiveToContainerCmd(containerId).withRemotePath("/")
                    .withTarInputStream(new ByteArrayInputStream(tar)).exec();
            return null;
        });
    }

    /** Connects the container to an existing network the template names; a missing one is the template's mistake. */
    void connect(String containerName, String containerId, String network) {
        call("connect " + containerName + " to network " + network, () -> {
            try {
                docker.connectToNetworkCmd().withNetworkId(network).withContainerId(containerId).exec();
            } catch (NotFoundException e) {
                throw ProviderException.permanent("the template asks for Docker network '" + network
                        + "', which does not exist on " + host + "; create it first");
            }
            return null;
        });
    }

    /** The workspace's containers, running or not. */
    List<Container> containers(String workspaceId) {
        return call("list the containers of workspace " + workspaceId, () -> docker.listContainersCmd()
                .withShowAll(true).withLabelFilter(Map.of(WORKSPACE_LABEL, workspaceId)).exec());
    }

    /** Atelier's containers that carry all of {@code labels}. */
    List<Container> containers(Map<String, String> labels) {
        return docker.listContainersCmd().withShowAll(true).withLabelFilter(labelFilter(labels)).exec();
    }

    /** The last lines the container wrote, for an error message. */
    String logTail(String containerId) {
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

    // --- images

    /** The image, or null when the daemon does not have it. */
    InspectImageResponse image(String image) {
        try {
            return docker.inspectImageCmd(image).exec();
        } catch (NotFoundException e) {
            return null;
        } catch (RuntimeException e) {
            throw translate("inspect image " + image, e);
        }
    }

    /** Pulls an image and waits for it: false when it did not finish within {@code timeout}. */
    boolean pull(String image, Duration timeout) throws InterruptedException {
        return docker.pullImageCmd(image).exec(new PullImageResultCallback())
                .awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    // --- volumes and networks

    void ensureNetwork(String name, Map<String, String> labels) {
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

    void ensureVolume(String name, Map<String, String> labels) {
        call("create volume " + name, () -> {
            try {
                docker.inspectVolumeCmd(name).exec();
            } catch (NotFoundException missing) {
                docker.createVolumeCmd().withName(name).withLabels(labels).exec();
            }
            return null;
        });
    }

    List<InspectVolumeResponse> volumes(Map<String, String> labels) {
        List<InspectVolumeResponse> found = call("list volumes", () -> docker.listVolumesCmd()
                .withFilter("label", labelFilter(labels)).exec().getVolumes());
        // Filter again: not every daemon applies several label filters as "all of".
        return found == null ? List.of() : found.stream().filter(v -> hasAll(v.getLabels(), labels)).toList();
    }

    /** The network named {@code name}, if the daemon has it. */
    java.util.Optional<Network> inspectNetwork(String name) {
        return call("inspect network " + name, () -> {
            try {
                return java.util.Optional.of(docker.inspectNetworkCmd().withNetworkId(name).exec());
            } catch (com.github.dockerjava.api.exception.NotFoundException e) {
                return java.util.Optional.<Network>empty();
            }
        });
    }

    List<Network> networks(Map<String, String> labels) {
        List<Network> found = call("list networks", () -> docker.listNetworksCmd()
                .withFilter("label", labelFilter(labels)).exec());
        return found.stream().filter(n -> hasAll(n.getLabels(), labels)).toList();
    }

    // --- removing a workspace

    void removeContainers(String workspaceId) {
        removeEach("remove the containers of workspace " + workspaceId, () -> containers(workspaceId),
                c -> removeQuietly(c.getId()));
    }

    void removeVolumes(String workspaceId) {
        removeEach("remove the volumes of workspace " + workspaceId, () -> volumes(Map.of(WORKSPACE_LABEL, workspaceId)),
                v -> docker.removeVolumeCmd(v.getName()).exec());
    }

    void removeNetworks(String workspaceId) {
        removeEach("remove the network of workspace " + workspaceId, () -> networks(Map.of(WORKSPACE_LABEL, workspaceId)),
                n -> docker.removeNetworkCmd(n.getId()).exec());
    }

    /** Removes every object listed; one removed meanwhile (by a concurrent attempt) counts as removed. */
    private <T> void removeEach(String what, Supplier<List<T>> list, Consumer<T> remove) {
        call(what, () -> {
            for (T item : list.get()) {
                try {
                    remove.accept(item);
                } catch (NotFoundException gone) {
                    // removed meanwhile
                }
            }
            return null;
        });
    }

    private void removeQuietly(String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException gone) {
            // removed meanwhile
        }
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

    // --- errors

    <T> T call(String what, Callable<T> action) {
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
    ProviderException translate(String what, RuntimeException e) {
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
                return ProviderException.retryable("could not " + what + " on " + host + ": " + message, e);
            }
            return new ProviderException("could not " + what + ": " + message, false, e);
        }
        return ProviderException.retryable("could not " + what + ": the Docker daemon at " + host
                + " did not answer (" + rootMessage(e) + ")", e);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() != null ? ": " + root.getMessage() : "");
    }

    @Override
    public void close() throws IOException {
        docker.close();
    }
}
