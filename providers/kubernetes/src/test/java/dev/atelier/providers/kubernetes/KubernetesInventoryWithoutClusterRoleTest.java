package dev.atelier.providers.kubernetes;

import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An engine whose service account has only the namespaced Role (no ClusterRole to list across namespaces): the
 * mock API server (CRUD mode) answers 403 to every cluster-wide list, as RBAC would.
 */
class KubernetesInventoryWithoutClusterRoleTest {

    static final String NAMESPACE = "atelier-test";

    KubernetesMockServer server;
    KubernetesClient client;

    @BeforeEach
    void server() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new NamespacedRbac(), false);
        server.init();
        client = server.createClient();
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    @Test
    void inventoryFallsBackToTheDefaultNamespace() {
        KubernetesWorkspaceProvider provider = new KubernetesWorkspaceProvider(() -> client, NAMESPACE, List.of(),
                Duration.ofMillis(10));
        String id = UUID.randomUUID().toString();
        ProvisionRequest request = KubernetesWorkspaceProviderTest.request(id, 1, null, Map.of("image", "x"));
        ProviderOperation op = provider.create(request);
        assertThat(op.resourceId()).isEqualTo(NAMESPACE + "/atelier-" + id);

        assertThat(provider.inventory(Map.of("atelier-workspace-id", id))).extracting(ResourceDescription::resourceId)
                .containsExactlyInAnyOrder(
                        "StatefulSet:" + NAMESPACE + "/atelier-" + id,
                        "PersistentVolumeClaim:" + NAMESPACE + "/atelier-" + id + "-home",
                        "Secret:" + NAMESPACE + "/atelier-" + id,
                        "NetworkPolicy:" + NAMESPACE + "/atelier-" + id);
    }

    /** RBAC with a Role in each namespace and no ClusterRole: lists outside a namespace are forbidden. */
    static final class NamespacedRbac extends KubernetesCrudDispatcher {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
            if ("GET".equals(request.getMethod()) && !request.getPath().contains("/namespaces/")) {
                return new MockResponse().setResponseCode(403).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                        + "\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,\"message\":\"cannot list at the "
                        + "cluster scope\"}");
            }
            return super.dispatch(request);
        }
    }
}
