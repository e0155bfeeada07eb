package dev.atelier.providers.kubernetes;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.WorkspaceShell;
import dev.atelier.provider.ProvisionRequest;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
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

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The manifests of {@code deploy/kubernetes/} (and {@code optional/}): parsed by fabric8 and applied to its mock API
 * server in CRUD mode, then read back. The RBAC rules are checked against what the kubernetes provider really asks
 * of an API server: the provider runs a whole workspace lifecycle (create, ready, stop, start, inventory, delete)
 * against the same mock server, every request it makes is turned into the verb and resource RBAC would check, and
 * each must be allowed by the shipped Role (namespaced requests) or the optional ClusterRole (cluster-wide lists).
 * So a new call in the provider without its rule fails here.
 */
class KubernetesManifestsTest {

    static final Path MANIFESTS = repositoryRoot().resolve("deploy/kubernetes");
    static final String ENGINE_NAMESPACE = "atelier";

    KubernetesMockServer server;
    KubernetesClient client;
    final RecordingDispatcher dispatcher = new RecordingDispatcher();
    List<HasMetadata> applied;

    @BeforeEach
    void applyManifests() throws IOException {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init();
        client = server.createClient();
        List<HasMetadata> loaded = new ArrayList<>();
        for (Path file : manifestFiles()) {
            try (InputStream in = Files.newInputStream(file)) {
                loaded.addAll(client.load(in).items());
            }
        }
        // Namespaces first, as kubectl apply -f deploy/kubernetes/ would have to order them.
        loaded.sort((a, b) -> Boolean.compare(!(a instanceof Namespace), !(b instanceof Namespace)));
        applied = loaded.stream().map(o -> client.resource(o).create()).map(HasMetadata.class::cast).toList();
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    @Test
    void everyManifestParsesAndIsStoredByTheApiServer() {
        assertThat(applied).extracting(HasMetadata::getKind).contains("Namespace", "ServiceAccount", "Role",
                "RoleBinding", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service", "PodDisruptionBudget",
                "Secret");
        for (HasMetadata o : applied) {
            HasMetadata stored = o.getMetadata().getNamespace() == null
                    ? client.resource(o).get() : client.resource(o).inNamespace(o.getMetadata().getNamespace()).get();
            assertThat(stored).as("%s %s stored", o.getKind(), o.getMetadata().getName()).isNotNull();
            assertThat(stored.getMetadata().getLabels()).as("%s %s labelled", o.getKind(), o.getMetadata().getName())
                    .containsKey("app.kubernetes.io/" + (o instanceof Namespace ? "part-of" : "name"));
        }
    }

    @Test
    void twoReplicasWithProbesResourcesAndAHardenedNonRootContainer() {
        Deployment deployment = client.apps().deployments().inNamespace(ENGINE_NAMESPACE).withName("atelier").get();
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
        assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
        var pod = deployment.getSpec().getTemplate().getSpec();
        assertThat(deployment.getSpec().getSelector().getMatchLabels())
                .isEqualTo(deployment.getSpec().getTemplate().getMetadata().getLabels());
        assertThat(pod.getServiceAccountName()).isEqualTo("atelier");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).as("the image's user").isEqualTo(10001L);
        assertThat(pod.getContainers()).hasSize(1);
        Container engine = pod.getContainers().get(0);
        assertThat(engine.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(engine.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(engine.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(engine.getVolumeMounts()).extracting("mountPath").contains("/tmp", "/var/lib/atelier/data");

        assertThat(engine.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("http");
            assertThat(p.getContainerPort()).isEqualTo(8080);
        });
        assertProbe(engine.getStartupProbe(), "/actuator/health/liveness");
        assertProbe(engine.getLivenessProbe(), "/actuator/health/liveness");
        assertProbe(engine.getReadinessProbe(), "/actuator/health/readiness");
        assertThat(engine.getStartupProbe().getFailureThreshold() * engine.getStartupProbe().getPeriodSeconds())
                .as("seconds allowed for start-up and migrations").isGreaterThanOrEqualTo(120);

        assertThat(engine.getResources().getRequests()).containsOnlyKeys("cpu", "memory");
        assertThat(engine.getResources().getLimits()).containsKey("memory");
        assertThat(Quantity.getAmountInBytes(engine.getResources().getLimits().get("memory")))
                .isGreaterThanOrEqualTo(Quantity.getAmountInBytes(engine.getResources().getRequests().get("memory")));

        Map<String, EnvVar> env = env(engine);
        assertThat(env.get("ATELIER_NODE_ID").getValueFrom().getFieldRef().getFieldPath())
                .as("a node id per pod").isEqualTo("metadata.name");
        assertThat(env.get("ATELIER_PROVIDERS_KUBERNETES_ENABLED").getValue()).isEqualTo("true");
    }

    @Test
    void theDatabaseAndTheAdminTokenComeFromSecretsThatHaveTheKeys() {
        Container engine = engine();
        Map<String, EnvVar> env = env(engine);
        for (String name : List.of("ATELIER_DB_URL", "ATELIER_DB_USER", "ATELIER_DB_PASSWORD", "ATELIER_ADMIN_TOKEN")) {
            assertThat(env.get(name)).as(name).isNotNull();
            assertThat(env.get(name).getValue()).as("%s is not written into the Deployment", name).isNull();
            var ref = env.get(name).getValueFrom().getSecretKeyRef();
            assertThat(ref).as("%s from a Secret", name).isNotNull();
            Secret secret = client.secrets().inNamespace(ENGINE_NAMESPACE).withName(ref.getName()).get();
            assertThat(secret).as("Secret %s (secrets.example.yaml)", ref.getName()).isNotNull();
            Map<String, String> keys = new HashMap<>();
            if (secret.getData() != null) {
                keys.putAll(secret.getData());
            }
            if (secret.getStringData() != null) {
                keys.putAll(secret.getStringData());
            }
            assertThat(keys).as("Secret %s has key %s", ref.getName(), ref.getKey()).containsKey(ref.getKey());
        }
        assertThat(env.get("ATELIER_DB_URL").getValueFrom().getSecretKeyRef().getName()).isEqualTo("atelier-database");
        assertThat(env.values()).as("no password or token in plain text")
                .noneMatch(e -> e.getName().matches(".*(PASSWORD|TOKEN|SECRET).*") && e.getValue() != null);
    }

    @Test
    void theServiceAndTheDisruptionBudgetSelectTheEnginePods() {
        Deployment deployment = client.apps().deployments().inNamespace(ENGINE_NAMESPACE).withName("atelier").get();
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();

        Service service = client.services().inNamespace(ENGINE_NAMESPACE).withName("atelier").get();
        assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p ->
                assertThat(p.getTargetPort().getStrVal()).isEqualTo("http"));
        assertThat(service.getSpec().getSessionAffinity()).as("browser sessions stay on one node").isEqualTo("ClientIP");

        PodDisruptionBudget budget = client.policy().v1().podDisruptionBudget().inNamespace(ENGINE_NAMESPACE)
                .withName("atelier").get();
        assertThat(podLabels).containsAllEntriesOf(budget.getSpec().getSelector().getMatchLabels());
        assertThat(budget.getSpec().getMinAvailable().getIntVal()).as("one of the two replicas stays up")
                .isEqualTo(1).isLessThan(deployment.getSpec().getReplicas());
    }

    @Test
    void theRolesAllowEveryRequestTheProviderMakesInAWholeLifecycleAndTheyAreBoundToTheEnginesAccount() {
        String workspaceNamespace = env(engine()).get("ATELIER_PROVIDERS_KUBERNETES_NAMESPACE").getValue();
        assertThat(client.namespaces().withName(workspaceNamespace).get()).as("the workspace namespace is shipped")
                .isNotNull();
        assertThat(workspaceNamespace).as("workspaces apart from the engine's Secrets").isNotEqualTo(ENGINE_NAMESPACE);

        dispatcher.requests.clear();
        dispatcher.recording = true;
        runLifecycle(workspaceNamespace);
        dispatcher.recording = false;

        Set<Access> asked = new LinkedHashSet<>();
        dispatcher.requests.forEach(r -> asked.add(Access.of(r)));
        assertThat(asked).as("the lifecycle made requests of every kind the provider manages").extracting(Access::resource)
                .contains("statefulsets", "pods", "persistentvolumeclaims", "secrets", "networkpolicies", "events",
                        "pods/exec", "pods/portforward");
        assertThat(asked).extracting(Access::verb).contains("create", "get", "list", "patch", "delete");

        List<Role> roles = client.rbac().roles().inNamespace(workspaceNamespace).list().getItems();
        List<ClusterRole> clusterRoles = client.rbac().clusterRoles().list().getItems();
        for (Access access : asked) {
            List<PolicyRule> rules = access.namespace() == null
                    ? clusterRoles.stream().filter(r -> boundToEngine(r)).flatMap(r -> r.getRules().stream()).toList()
                    : roles.stream().filter(r -> boundToEngine(access.namespace(), r))
                    .flatMap(r -> r.getRules().stream()).toList();
            assertThat(rules).as("a rule bound to the engine allows %s", access).anyMatch(access::allowedBy);
        }
        // And nothing in the namespaced Role beyond what the provider does, plus get and update on what it creates:
        // its create-or-update replaces an object that already exists, which one clean lifecycle never meets.
        for (Role role : roles) {
            for (PolicyRule rule : role.getRules()) {
                for (String resource : rule.getResources()) {
                    Set<String> used = new LinkedHashSet<>();
                    asked.stream().filter(a -> a.namespace() != null && a.resource().equals(resource))
                            .forEach(a -> used.add(a.verb()));
                    assertThat(used).as("%s is used by the provider", resource).isNotEmpty();
                    assertThat(rule.getVerbs()).as("verbs on %s", resource).allMatch(v -> used.contains(v)
                            || Set.of("get", "update").contains(v) && used.contains("create"));
                }
            }
        }
    }

    @Test
    void theRoleInTheProvidersDocsIsTheShippedOne() throws IOException {
        String docs = Files.readString(MANIFESTS.resolve("../../docs/providers/kubernetes.md").normalize());
        String section = docs.substring(docs.indexOf("## RBAC"));
        Matcher yaml = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(section);
        assertThat(yaml.find()).isTrue();
        Role documented = client.load(new java.io.ByteArrayInputStream(yaml.group(1).getBytes(
                java.nio.charset.StandardCharsets.UTF_8))).items().stream().filter(Role.class::isInstance)
                .map(Role.class::cast).findFirst().orElseThrow();
        Role shipped = client.rbac().roles().inNamespace("atelier-workspaces").withName("atelier-workspaces").get();
        assertThat(rules(documented)).isEqualTo(rules(shipped));
    }

    /** A Role's rules as group/resource -> verbs, whatever their order. */
    private static Map<String, Set<String>> rules(Role role) {
        Map<String, Set<String>> rules = new java.util.TreeMap<>();
        for (PolicyRule rule : role.getRules()) {
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    rules.computeIfAbsent(group + "/" + resource, k -> new java.util.TreeSet<>()).addAll(rule.getVerbs());
                }
            }
        }
        return rules;
    }

    private void runLifecycle(String namespace) {
        KubernetesWorkspaceProvider provider = new KubernetesWorkspaceProvider(() -> client, namespace, List.of(),
                Duration.ofMillis(10));
        String id = UUID.randomUUID().toString();
        Map<String, Object> spec = Map.of("image", "ubuntu:24.04", "storageGb", 5);
        try (FakeStatefulSetController controller = new FakeStatefulSetController(client)) {
            ProvisionRequest create = KubernetesWorkspaceProviderTest.request(id, 1, null, spec);
            ProviderOperation created = provider.create(create);
            ProvisionRequest running = KubernetesWorkspaceProviderTest.withResource(create, created.resourceId());
            // Polled before the pod exists: the provider looks for the StatefulSet's FailedCreate events.
            assertThat(provider.poll(running, created.operationId()).done()).isFalse();
            cluster(controller::reconcile);
            assertThat(provider.poll(running, created.operationId()).done()).isTrue();
            provider.describe(running);

            ProvisionRequest stop = KubernetesWorkspaceProviderTest.request(id, 2, created.resourceId(), spec);
            ProviderOperation stopping = provider.stop(stop);
            cluster(controller::reconcile);
            assertThat(provider.poll(stop, stopping.operationId()).done()).isTrue();

            ProvisionRequest start = KubernetesWorkspaceProviderTest.request(id, 3, created.resourceId(), spec);
            ProviderOperation starting = provider.start(start);
            cluster(controller::reconcile);
            assertThat(provider.poll(start, starting.operationId()).done()).isTrue();

            // A start again with a new build (a retry after a failed start): the old build's pod is replaced.
            ProvisionRequest again = KubernetesWorkspaceProviderTest.request(id, 4, created.resourceId(), spec);
            ProviderOperation restarting = provider.start(again);
            cluster(controller::reconcile);
            assertThat(provider.poll(again, restarting.operationId()).done()).isTrue();

            assertThat(provider.inventory(Map.of("atelier-workspace-id", id))).isNotEmpty();

            // The SSH gateway's exec and port-forward: the mock server has no kubelet to answer the websockets, so
            // they fail, but the requests are made and recorded.
            assertThatThrownBy(() -> provider.open(id, new WorkspaceShell.ShellRequest(List.of("true"), null,
                    Map.of())).exit().get(10, java.util.concurrent.TimeUnit.SECONDS))
                    .isInstanceOfAny(ProviderException.class, java.util.concurrent.ExecutionException.class);
            try {
                provider.connect(id, "localhost", 8080).close();
            } catch (ProviderException | java.io.IOException e) {
                // no kubelet: see above
            }

            ProvisionRequest delete = KubernetesWorkspaceProviderTest.request(id, 5, created.resourceId(), spec);
            ProviderOperation deleting = provider.delete(delete);
            assertThat(deleting.done() || provider.poll(delete, deleting.operationId()).done()).isTrue();
        }
    }

    /** What the cluster does by itself (the fake controller): not the provider's requests, so not recorded. */
    private void cluster(Runnable action) {
        dispatcher.recording = false;
        try {
            action.run();
        } finally {
            dispatcher.recording = true;
        }
    }

    private boolean boundToEngine(String namespace, Role role) {
        return client.rbac().roleBindings().inNamespace(namespace).list().getItems().stream()
                .filter(b -> "Role".equals(b.getRoleRef().getKind()) && role.getMetadata().getName().equals(b.getRoleRef().getName()))
                .map(RoleBinding::getSubjects).anyMatch(KubernetesManifestsTest::namesEngineAccount);
    }

    private boolean boundToEngine(ClusterRole role) {
        return client.rbac().clusterRoleBindings().list().getItems().stream()
                .filter(b -> "ClusterRole".equals(b.getRoleRef().getKind())
                        && role.getMetadata().getName().equals(b.getRoleRef().getName()))
                .map(ClusterRoleBinding::getSubjects).anyMatch(KubernetesManifestsTest::namesEngineAccount);
    }

    private static boolean namesEngineAccount(List<Subject> subjects) {
        return subjects.stream().anyMatch(s -> "ServiceAccount".equals(s.getKind()) && "atelier".equals(s.getName())
                && ENGINE_NAMESPACE.equals(s.getNamespace()));
    }

    private Container engine() {
        ServiceAccount account = client.serviceAccounts().inNamespace(ENGINE_NAMESPACE).withName("atelier").get();
        assertThat(account).isNotNull();
        return client.apps().deployments().inNamespace(ENGINE_NAMESPACE).withName("atelier").get().getSpec()
                .getTemplate().getSpec().getContainers().get(0);
    }

    private static Map<String, EnvVar> env(Container container) {
        Map<String, EnvVar> env = new HashMap<>();
        container.getEnv().forEach(e -> env.put(e.getName(), e));
        return env;
    }

    private static void assertProbe(Probe probe, String path) {
        assertThat(probe).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
    }

    private static List<Path> manifestFiles() throws IOException {
        try (Stream<Path> files = Files.walk(MANIFESTS)) {
            List<Path> found = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
            assertThat(found).isNotEmpty();
            return found;
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/kubernetes"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("deploy/kubernetes not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** The verb and resource RBAC checks for one API request ({@code namespace} null: cluster-wide). */
    record Access(String group, String resource, String namespace, String verb) {

        private static final Pattern PATH = Pattern.compile(
                "/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/([^/]+))?/([^/?]+)(?:/([^/?]+))?(?:/([^/?]+))?(?:\\?(.*))?");

        static Access of(RecordedRequest request) {
            Matcher m = PATH.matcher(request.getPath());
            if (!m.matches()) {
                throw new AssertionError("unexpected request " + request.getMethod() + " " + request.getPath());
            }
            boolean named = m.group(4) != null;
            String subresource = m.group(5);
            String query = m.group(6) == null ? "" : m.group(6);
            if (subresource != null) {
                // exec and portforward are websocket upgrades (GET), which API servers since 1.31 authorise as create.
                if (!Set.of("exec", "portforward").contains(subresource) || !"GET".equals(request.getMethod())) {
                    throw new AssertionError("unexpected request " + request.getMethod() + " " + request.getPath());
                }
                return new Access(m.group(1) == null ? "" : m.group(1), m.group(3) + "/" + subresource, m.group(2),
                        "create");
            }
            String verb = switch (request.getMethod()) {
                case "GET" -> named ? "get" : query.contains("watch=true") ? "watch" : "list";
                case "POST" -> "create";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                case "DELETE" -> named ? "delete" : "deletecollection";
                default -> throw new AssertionError("unexpected method " + request.getMethod());
            };
            return new Access(m.group(1) == null ? "" : m.group(1), m.group(3), m.group(2), verb);
        }

        boolean allowedBy(PolicyRule rule) {
            return (rule.getApiGroups().contains(group) || rule.getApiGroups().contains("*"))
                    && (rule.getResources().contains(resource) || rule.getResources().contains("*"))
                    && (rule.getVerbs().contains(verb) || rule.getVerbs().contains("*"));
        }
    }

    /** The CRUD API server, remembering each request while {@link #recording}. */
    static final class RecordingDispatcher extends KubernetesCrudDispatcher {
        final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
        volatile boolean recording;

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            if (recording) {
                requests.add(request);
            }
            return super.dispatch(request);
        }
    }
}
