package dev.atelier.providers.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Network;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Against podman's Docker API: a docker workspace never joins a network that reaches the engine's database (one
 * whose subnet holds its address, one the operator denies, or the host's), and nothing of the workspace is made
 * when it asks to; a network elsewhere is joined as before.
 */
class DockerEngineIsolationTest {

    private static DockerClient docker;
    private static DockerProviderProperties properties;
    private static String engineNetwork;
    private static String otherNetwork;
    private static InetAddress database;

    @BeforeAll
    static void networks() throws Exception {
        String host = TestInfra.podman();
        properties = new DockerProviderProperties(true, host, false, null, "127.0.0.1", null, Duration.ofMillis(300),
                Duration.ofSeconds(1), Duration.ofSeconds(60), List.of("engine-net"));
        docker = DockerProviderConfiguration.client(properties);
        int third = ThreadLocalRandom.current().nextInt(100, 250);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        // Stands in for the network the engine's database is on: its subnet holds the database's address.
        engineNetwork = network("atelier-test-db-" + suffix, "10.199." + third + ".0/24");
        otherNetwork = network("atelier-test-other-" + suffix, "10.198." + third + ".0/24");
        database = InetAddress.getByName("10.199." + third + ".5");
    }

    @AfterAll
    static void removeNetworks() throws Exception {
        docker.removeNetworkCmd(engineNetwork).exec();
        docker.removeNetworkCmd(otherNetwork).exec();
        docker.close();
    }

    @Test
    void aWorkspaceNeverJoinsANetworkThatReachesTheEnginesDatabase() throws Exception {
        try (DockerWorkspaceProvider provider = new DockerWorkspaceProvider(DockerProviderConfiguration.client(properties),
                properties, List.of(database))) {
            assertThat(provider.validateSpec(Map.of("image", TestInfra.BUSYBOX_IMAGE, "network", "host")))
                    .singleElement().asString().contains("network: 'host'");
            assertThat(provider.validateSpec(Map.of("image", TestInfra.BUSYBOX_IMAGE, "network", "engine-net")))
                    .singleElement().asString().contains("denied-networks");

            String id = UUID.randomUUID().toString();
            ProvisionRequest request = request(id, engineNetwork);
            assertThatThrownBy(() -> provider.create(request))
                    .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                    .hasMessageContaining("holds the engine's database (" + database.getHostAddress() + ")");
            Map<String, String> label = Map.of(DockerWorkspaceProvider.WORKSPACE_LABEL, id);
            assertThat(docker.listContainersCmd().withShowAll(true).withLabelFilter(label).exec()).isEmpty();
            assertThat(docker.listVolumesCmd().exec().getVolumes()).noneMatch(v -> v.getName().contains(id));
            assertThat(docker.listNetworksCmd().exec()).noneMatch(n -> id.equals(n.getLabels().get(
                    DockerWorkspaceProvider.WORKSPACE_LABEL)));

            // The control: a network elsewhere is joined.
            String other = UUID.randomUUID().toString();
            ProvisionRequest allowed = request(other, otherNetwork);
            try {
                ProviderOperation op = provider.create(allowed);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                        .until(() -> provider.poll(allowed, op.operationId()).done());
                Network joined = docker.inspectNetworkCmd().withNetworkId(otherNetwork).exec();
                assertThat(joined.getContainers()).isNotEmpty();
            } finally {
                provider.delete(allowed);
            }
        }
    }

    private static ProvisionRequest request(String id, String network) {
        return new ProvisionRequest(id, 1, "alice", null, Map.of("image", TestInfra.BUSYBOX_IMAGE,
                "command", List.of("/bin/sh", "-c", "exec sleep 100000"), "network", network), Map.of(),
                Map.of("atelier-workspace-id", id), null);
    }

    private static String network(String name, String subnet) {
        docker.createNetworkCmd().withName(name).withDriver("bridge")
                .withIpam(new Network.Ipam().withConfig(new Network.Ipam.Config().withSubnet(subnet))).exec();
        return name;
    }
}
