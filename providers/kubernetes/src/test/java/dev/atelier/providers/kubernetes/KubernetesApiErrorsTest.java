package dev.atelier.providers.kubernetes;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProvisionRequest;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How Kubernetes API failures reach the engine: the mock server (expectations mode, plain HTTP) answers with the
 * status codes of a real API server, and the client is built the way the engine builds it, from
 * {@code atelier.providers.kubernetes.master-url}.
 */
@EnableKubernetesMockClient(https = false)
class KubernetesApiErrorsTest {

    static final String SECRETS = "/api/v1/namespaces/atelier-test/secrets";

    KubernetesMockServer server;
    KubernetesClient engineClient;
    KubernetesWorkspaceProvider provider;

    @BeforeEach
    void provider() {
        engineClient = KubernetesProviderConfiguration.client(properties(server.url("/")));
        provider = new KubernetesWorkspaceProvider(() -> engineClient, "atelier-test", List.of(), Duration.ofMillis(10));
    }

    @AfterEach
    void close() {
        provider.close();
    }

    @Test
    void throttlingIsRetryable() {
        answer(429, "Too many requests, please try again later.", "TooManyRequests");
        assertThatThrownBy(() -> provider.create(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains("429").contains("Secret in namespace atelier-test")
                    .contains("Too many requests");
            assertNoToken(e);
        });
    }

    @Test
    void serverErrorsAreRetryable() {
        answer(503, "etcdserver: leader changed", "ServiceUnavailable");
        assertThatThrownBy(() -> provider.create(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains("503").contains("etcdserver: leader changed");
        });
    }

    @Test
    void aForbiddenCallIsPermanentAndPointsAtTheRbacDocs() {
        answer(403, "secrets is forbidden: User \"system:serviceaccount:atelier:engine\" cannot create resource "
                + "\"secrets\" in API group \"\" in the namespace \"atelier-test\"", "Forbidden");
        assertThatThrownBy(() -> provider.create(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("may not apply Secret in namespace atelier-test")
                    .contains("cannot create resource \\\"secrets\\\"".replace("\\", ""))
                    .contains("docs/providers/kubernetes.md");
            assertNoToken(e);
        });
    }

    @Test
    void aMissingNamespaceIsPermanent() {
        answer(404, "namespaces \"atelier-test\" not found", "NotFound");
        assertThatThrownBy(() -> provider.create(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("namespaces \"atelier-test\" not found").contains("does the namespace exist");
        });
    }

    @Test
    void anInvalidObjectIsPermanentWithTheApiServersReason() {
        answer(422, "Secret \"x\" is invalid: metadata.labels: Invalid value", "Invalid");
        assertThatThrownBy(() -> provider.create(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("422 Invalid").contains("metadata.labels: Invalid value");
            assertNoToken(e);
        });
    }

    @Test
    void anUnreachableApiServerIsRetryable() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        KubernetesClient unreachable = KubernetesProviderConfiguration.client(properties("http://127.0.0.1:" + closedPort));
        KubernetesWorkspaceProvider away = new KubernetesWorkspaceProvider(() -> unreachable, "atelier-test", List.of(),
                Duration.ofMillis(10));
        try {
            assertThatThrownBy(() -> away.create(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
                assertThat(e.retryable()).as(e.getMessage()).isTrue();
                assertThat(e.getMessage()).contains("could not reach the Kubernetes API");
            });
        } finally {
            away.close();
        }
    }

    private void answer(int code, String message, String reason) {
        Status status = new StatusBuilder().withStatus("Failure").withCode(code).withMessage(message).withReason(reason)
                .build();
        server.expect().post().withPath(SECRETS).andReturn(code, status).always();
    }

    private static ProvisionRequest request() {
        return KubernetesWorkspaceProviderTest.request(UUID.randomUUID().toString(), 1, null, Map.of("image", "x"));
    }

    private static void assertNoToken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(KubernetesWorkspaceProviderTest.TOKEN);
        }
    }

    static KubernetesProviderProperties properties(String masterUrl) {
        return new KubernetesProviderProperties(true, masterUrl, "atelier-test", List.of(), Duration.ofMillis(10),
                List.of());
    }
}
