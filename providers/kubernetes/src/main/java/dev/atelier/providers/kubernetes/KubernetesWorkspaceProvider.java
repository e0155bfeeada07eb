package dev.atelier.providers.kubernetes;

import dev.atelier.provider.IpRange;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.provider.WorkspaceShell;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

// Over 500 lines on purpose: the whole lifecycle of a workspace (create, start, stop, delete, poll, describe,
// inventory) reads in one place; its objects, spec, pod status and API errors are split out already.
/**
 * Workspaces as Kubernetes objects (see {@link WorkspaceObjects}): create/start apply them with one replica and
 * are polled until the pod is Ready; stop scales the StatefulSet to zero and keeps the home volume; delete removes
 * every object. Every call is safe to repeat: names come from the workspace id, and objects are created or, when
 * they exist, replaced with the same content. The SSH gateway reaches a running workspace through exec and
 * port-forward on its pod ({@link KubernetesShells}).
 */
public class KubernetesWorkspaceProvider implements WorkspaceProvider, WorkspaceShell, AutoCloseable {

    static final String NAME = "kubernetes";
    /** The operations polled; each carries the build's key and when it began (events since then count). */
    private static final String START = "start";
    private static final String STOP = "stop";
    private static final String DELETE = "delete";
    private static final Logger log = LoggerFactory.getLogger(KubernetesWorkspaceProvider.class);

    private final Supplier<KubernetesClient> clientFactory;
    private final String configuredNamespace;
    private final List<String> ingressCidrs;
    /** The engine's database and what else the operator lists: no workspace may send anything there. */
    private final List<IpRange> deniedEgress;
    private final Duration pollInterval;
    private final KubernetesShells shells = new KubernetesShells(this::client, this::defaultNamespace);
    private volatile KubernetesClient client;

    public KubernetesWorkspaceProvider(Supplier<KubernetesClient> clientFactory, String namespace,
                                       List<String> ingressCidrs, Duration pollInterval) {
        this(clientFactory, namespace, ingressCidrs, List.of(), pollInterval);
    }

    /** @param deniedEgress ranges no workspace may reach: the engine's database and its other services */
    public KubernetesWorkspaceProvider(Supplier<KubernetesClient> clientFactory, String namespace,
                                       List<String> ingressCidrs, List<IpRange> deniedEgress, Duration pollInterval) {
        this.clientFactory = clientFactory;
        this.deniedEgress = List.copyOf(deniedEgress);
        this.configuredNamespace = namespace == null || namespace.isBlank() ? null : namespace;
        this.ingressCidrs = List.copyOf(ingressCidrs);
        this.pollInterval = pollInterval;
        if (configuredNamespace != null && !KubernetesSpec.isDnsLabel(configuredNamespace)) {
            throw new IllegalArgumentException("atelier.providers.kubernetes.namespace '" + namespace
                    + "' is not a namespace name");
        }
        this.ingressCidrs.stream().filter(c -> !Cidrs.valid(c)).findFirst().ifPresent(c -> {
            throw new IllegalArgumentException("atelier.providers.kubernetes.ingress-cidrs: '" + c
                    + "' is not a CIDR such as 10.0.0.0/8");
        });
        log.info("kubernetes provider: workspaces in namespace {} unless their template names one; ingress from {}; "
                        + "never egress to {}", configuredNamespace == null ? "(the client's)" : configuredNamespace,
                this.ingressCidrs.isEmpty() ? "nowhere" : this.ingressCidrs,
                this.deniedEgress.isEmpty() ? "(nothing listed)" : this.deniedEgress);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> validateSpec(Map<String, Object> spec) {
        List<String> problems = new ArrayList<>(KubernetesSpec.validate(spec));
        if (problems.isEmpty() && spec.get("networkPolicy") instanceof Map<?, ?> policy
                && policy.get("egress") instanceof List<?> cidrs) {
            for (Object cidr : cidrs) {
                IpRange range = IpRange.parse(String.valueOf(cidr));
                deniedEgress.stream().filter(d -> d.contains(range)).findFirst().ifPresent(d -> problems.add(
                        "networkPolicy.egress entry '" + cidr + "' lies within " + d + ", which workspaces may not "
                                + "reach (the engine's database; atelier.providers.kubernetes.denied-egress-cidrs)"));
            }
        }
        return problems;
    }

    @Override
    public ProviderOperation create(ProvisionRequest request) {
        return launch(request, "create");
    }

    @Override
    public ProviderOperation start(ProvisionRequest request) {
        return launch(request, "start");
    }

    private ProviderOperation launch(ProvisionRequest request, String verb) {
        KubernetesSpec spec = spec(request);
        String namespace = namespace(request, spec);
        String name = WorkspaceObjects.name(request.workspaceId());
        KubernetesClient k8s = client();
        apply(k8s, WorkspaceObjects.secret(namespace, name, request));
        ensureClaim(k8s, WorkspaceObjects.claim(namespace, name, spec, request));
        apply(k8s, WorkspaceObjects.networkPolicy(namespace, name, spec, ingressCidrs, deniedEgress, request));
        apply(k8s, WorkspaceObjects.statefulSet(namespace, name, spec, request, 1));
        // A pod of an earlier build (a failed one, say) would block the StatefulSet's rollout: replace it now.
        String build = Long.toString(request.buildNumber());
        call("list pods of", "Pod", namespace, () -> k8s.pods().inNamespace(namespace)
                .withLabels(WorkspaceObjects.selector(request.workspaceId())).list().getItems()).stream()
                .filter(p -> !build.equals(label(p, WorkspaceObjects.BUILD_LABEL)))
                .forEach(p -> call("delete", "Pod", namespace, () -> k8s.pods().inNamespace(namespace)
                        .withName(p.getMetadata().getName()).delete()));
        log.info("kubernetes workspace {} build {}: {} applied StatefulSet {}/{}", request.workspaceId(),
                request.buildNumber(), verb, namespace, name);
        return ProviderOperation.inProgress(resourceId(namespace, name),
                OperationId.attempt(START, request, Instant.now()), pollInterval);
    }

    @Override
    public ProviderOperation stop(ProvisionRequest request) {
        String namespace = namespace(request, null);
        String name = WorkspaceObjects.name(request.workspaceId());
        KubernetesClient k8s = client();
        StatefulSet set = call("read", "StatefulSet", namespace, () -> k8s.apps().statefulSets().inNamespace(namespace)
                .withName(name).get());
        if (set != null) {
            call("scale down", "StatefulSet", namespace, () -> k8s.apps().statefulSets().inNamespace(namespace)
                    .withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":0}}"));
        }
        return pollStop(request, namespace, name);
    }

    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        String namespace = namespace(request, null);
        String name = WorkspaceObjects.name(request.workspaceId());
        KubernetesClient k8s = client();
        removeAll(k8s, namespace, name, request.workspaceId());
        log.info("kubernetes workspace {} build {}: deleting its objects in namespace {}", request.workspaceId(),
                request.buildNumber(), namespace);
        return pollDelete(request, namespace, name);
    }

    @Override
    public ProviderOperation poll(ProvisionRequest request, String operationId) {
        OperationId operation = OperationId.parse(NAME, operationId, OperationId::fromKindKeyMillis);
        String namespace = namespace(request, null);
        String name = WorkspaceObjects.name(request.workspaceId());
        return switch (operation.kind()) {
            case START -> pollStart(request, operation, namespace, name);
            case STOP -> pollStop(request, namespace, name);
            case DELETE -> {
                removeAll(client(), namespace, name, request.workspaceId());
                yield pollDelete(request, namespace, name);
            }
            default -> throw ProviderException.permanent("unknown kubernetes operation '" + operationId + "'");
        };
    }

    private ProviderOperation pollStart(ProvisionRequest request, OperationId operation, String namespace, String name) {
        KubernetesClient k8s = client();
        String resourceId = resourceId(namespace, name);
        StatefulSet set = call("read", "StatefulSet", namespace, () -> k8s.apps().statefulSets().inNamespace(namespace)
                .withName(name).get());
        if (set == null) {
            throw ProviderException.permanent("StatefulSet " + namespace + "/" + name + " disappeared while the "
                    + "workspace was starting (deleted outside Atelier?); start the workspace again");
        }
        Pod pod = call("read", "Pod", namespace, () -> k8s.pods().inNamespace(namespace)
                .withName(WorkspaceObjects.podName(name)).get());
        if (pod == null || pod.getMetadata().getDeletionTimestamp() != null
                || !Long.toString(request.buildNumber()).equals(label(pod, WorkspaceObjects.BUILD_LABEL))) {
            failedCreate(k8s, namespace, name, operation.requireAt()).ifPresent(message -> {
                throw ProviderException.permanent("Kubernetes could not create the pod of StatefulSet " + namespace
                        + "/" + name + ": " + message);
            });
            return ProviderOperation.inProgress(resourceId, operation, pollInterval);
        }
        Optional<String> failure = PodStatus.failure(pod);
        if (failure.isPresent()) {
            throw ProviderException.permanent("pod " + namespace + "/" + pod.getMetadata().getName() + " cannot run: "
                    + failure.get());
        }
        if (PodStatus.ready(pod)) {
            return ProviderOperation.done(resourceId, connection(namespace, name, pod));
        }
        return ProviderOperation.inProgress(resourceId, operation, pollInterval);
    }

    private ProviderOperation pollStop(ProvisionRequest request, String namespace, String name) {
        List<Pod> pods = pods(client(), namespace, request.workspaceId());
        if (pods.isEmpty()) {
            return ProviderOperation.done(resourceId(namespace, name), Map.of());
        }
        return ProviderOperation.inProgress(resourceId(namespace, name),
                OperationId.attempt(STOP, request, Instant.now()), pollInterval);
    }

    private ProviderOperation pollDelete(ProvisionRequest request, String namespace, String name) {
        List<String> left = remaining(client(), namespace, request.workspaceId());
        if (left.isEmpty()) {
            return ProviderOperation.done(null, Map.of());
        }
        log.debug("kubernetes workspace {}: waiting for {} to go", request.workspaceId(), left);
        return ProviderOperation.inProgress(resourceId(namespace, name),
                OperationId.attempt(DELETE, request, Instant.now()), pollInterval);
    }

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        String namespace = namespace(request, null);
        String name = WorkspaceObjects.name(request.workspaceId());
        KubernetesClient k8s = client();
        StatefulSet set = call("read", "StatefulSet", namespace, () -> k8s.apps().statefulSets().inNamespace(namespace)
                .withName(name).get());
        if (set == null) {
            return new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of());
        }
        Pod pod = call("read", "Pod", namespace, () -> k8s.pods().inNamespace(namespace)
                .withName(WorkspaceObjects.podName(name)).get());
        ResourceDescription.State state = PodStatus.state(set, pod);
        return new ResourceDescription(resourceId(namespace, name), state, labels(set),
                state == ResourceDescription.State.RUNNING ? connection(namespace, name, pod) : Map.of());
    }

    /**
     * Every Atelier object carrying the labels, in all namespaces. When the engine may not list cluster-wide (no
     * ClusterRole, see docs/providers/kubernetes.md), it looks in the default namespace only.
     */
    @Override
    public List<ResourceDescription> inventory(Map<String, String> labels) {
        KubernetesClient k8s = client();
        Map<String, String> selector = new LinkedHashMap<>(labels);
        selector.put(WorkspaceObjects.MANAGED_BY, WorkspaceObjects.MANAGER);
        String namespace = defaultNamespace();
        List<ResourceDescription> found = new ArrayList<>();
        List<StatefulSet> sets = everywhere("StatefulSet", namespace,
                () -> k8s.apps().statefulSets().inAnyNamespace().withLabels(selector).list().getItems(),
                () -> k8s.apps().statefulSets().inNamespace(namespace).withLabels(selector).list().getItems());
        List<Pod> pods = everywhere("Pod", namespace,
                () -> k8s.pods().inAnyNamespace().withLabels(selector).list().getItems(),
                () -> k8s.pods().inNamespace(namespace).withLabels(selector).list().getItems());
        for (StatefulSet set : sets) {
            Pod pod = pods.stream().filter(p -> Objects.equals(p.getMetadata().getNamespace(), set.getMetadata().getNamespace())
                    && podName(set).equals(p.getMetadata().getName())).findFirst().orElse(null);
            found.add(describeObject(set, PodStatus.state(set, pod)));
        }
        pods.forEach(p -> found.add(describeObject(p, PodStatus.ready(p) ? ResourceDescription.State.RUNNING
                : PodStatus.failure(p).isPresent() ? ResourceDescription.State.FAILED : ResourceDescription.State.PROVISIONING)));
        Stream.of(
                        everywhere("PersistentVolumeClaim", namespace,
                                () -> k8s.persistentVolumeClaims().inAnyNamespace().withLabels(selector).list().getItems(),
                                () -> k8s.persistentVolumeClaims().inNamespace(namespace).withLabels(selector).list()
                                        .getItems()),
                        everywhere("Secret", namespace,
                                () -> k8s.secrets().inAnyNamespace().withLabels(selector).list().getItems(),
                                () -> k8s.secrets().inNamespace(namespace).withLabels(selector).list().getItems()),
                        everywhere("NetworkPolicy", namespace,
                                () -> k8s.network().v1().networkPolicies().inAnyNamespace().withLabels(selector).list()
                                        .getItems(),
                                () -> k8s.network().v1().networkPolicies().inNamespace(namespace).withLabels(selector)
                                        .list().getItems()))
                .flatMap(List::stream)
                .forEach(o -> found.add(describeObject(o, ResourceDescription.State.UNKNOWN)));
        return found;
    }

    private static <T> List<T> everywhere(String kind, String namespace, Supplier<List<T>> allNamespaces,
                                          Supplier<List<T>> defaultNamespace) {
        try {
            return allNamespaces.get();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 403) {
                throw KubernetesErrors.translate("list", kind, "(all)", e);
            }
            log.warn("kubernetes provider: may not list {}s in all namespaces; inventory looks in {} only", kind,
                    namespace);
            return call("list", kind, namespace, defaultNamespace);
        }
    }

    @Override
    public void close() {
        KubernetesClient current = client;
        if (current != null) {
            current.close();
        }
    }

    /** A process in the workspace's container, through the API server's exec (for the SSH gateway). */
    @Override
    public ShellProcess open(Target target, ShellRequest request) {
        return shells.open(target.workspaceId(), request);
    }

    /** A connection to one of the pod's own ports, through the API server's port-forward (for the SSH gateway). */
    @Override
    public ShellProcess connect(Target target, String host, int port) {
        return shells.connect(target.workspaceId(), host, port);
    }

    // --- objects -------------------------------------------------------------------------------------------------

    private <T extends HasMetadata> void apply(KubernetesClient k8s, T object) {
        call("apply", object.getKind(), object.getMetadata().getNamespace(),
                () -> k8s.resource(object).createOr(NonDeletingOperation::update));
    }

    /**
     * A claim's spec is immutable once bound (the volume name is filled in), so an existing claim is kept; only a
     * larger size is asked for, which storage classes that allow expansion carry out.
     */
    private void ensureClaim(KubernetesClient k8s, PersistentVolumeClaim claim) {
        String namespace = claim.getMetadata().getNamespace();
        String name = claim.getMetadata().getName();
        var resource = k8s.persistentVolumeClaims().inNamespace(namespace).withName(name);
        PersistentVolumeClaim existing = call("read", "PersistentVolumeClaim", namespace, resource::get);
        if (existing == null) {
            call("create", "PersistentVolumeClaim", namespace, () -> k8s.resource(claim).createOr(alreadyThere -> claim));
            return;
        }
        Quantity wanted = claim.getSpec().getResources().getRequests().get("storage");
        Quantity current = existing.getSpec() == null || existing.getSpec().getResources() == null
                || existing.getSpec().getResources().getRequests() == null ? null
                : existing.getSpec().getResources().getRequests().get("storage");
        if (current == null || Quantity.getAmountInBytes(wanted).compareTo(Quantity.getAmountInBytes(current)) > 0) {
            call("resize", "PersistentVolumeClaim", namespace, () -> resource.patch(PatchContext.of(PatchType.JSON_MERGE),
                    "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"" + wanted + "\"}}}}"));
        }
        // The labels follow the build like every other object's.
        call("label", "PersistentVolumeClaim", namespace, () -> resource.patch(PatchContext.of(PatchType.JSON_MERGE),
                labelPatch(claim.getMetadata().getLabels())));
    }

    private void removeAll(KubernetesClient k8s, String namespace, String name, String workspaceId) {
        call("delete", "StatefulSet", namespace, () -> k8s.apps().statefulSets().inNamespace(namespace).withName(name)
                .delete());
        // The garbage collector would remove the pods too; deleting them now lets the claim go sooner.
        call("delete", "Pod", namespace, () -> k8s.pods().inNamespace(namespace)
                .withLabels(WorkspaceObjects.selector(workspaceId)).delete());
        call("delete", "NetworkPolicy", namespace, () -> k8s.network().v1().networkPolicies().inNamespace(namespace)
                .withName(name).delete());
        call("delete", "Secret", namespace, () -> k8s.secrets().inNamespace(namespace).withName(name).delete());
        call("delete", "PersistentVolumeClaim", namespace, () -> k8s.persistentVolumeClaims().inNamespace(namespace)
                .withName(WorkspaceObjects.claimName(name)).delete());
    }

    /** Objects of the workspace still there, as {@code Kind/name}. */
    private List<String> remaining(KubernetesClient k8s, String namespace, String workspaceId) {
        Map<String, String> selector = WorkspaceObjects.selector(workspaceId);
        List<HasMetadata> left = new ArrayList<>();
        left.addAll(call("list", "StatefulSet", namespace, () -> k8s.apps().statefulSets().inNamespace(namespace)
                .withLabels(selector).list().getItems()));
        left.addAll(pods(k8s, namespace, workspaceId));
        left.addAll(call("list", "NetworkPolicy", namespace, () -> k8s.network().v1().networkPolicies()
                .inNamespace(namespace).withLabels(selector).list().getItems()));
        left.addAll(call("list", "Secret", namespace, () -> k8s.secrets().inNamespace(namespace).withLabels(selector)
                .list().getItems()));
        left.addAll(call("list", "PersistentVolumeClaim", namespace, () -> k8s.persistentVolumeClaims()
                .inNamespace(namespace).withLabels(selector).list().getItems()));
        return left.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
    }

    private List<Pod> pods(KubernetesClient k8s, String namespace, String workspaceId) {
        return call("list", "Pod", namespace, () -> k8s.pods().inNamespace(namespace)
                .withLabels(WorkspaceObjects.selector(workspaceId)).list().getItems());
    }

    // --- reading the workspace back ----------------------------------------------------------------------------

    /**
     * A FailedCreate event of the StatefulSet since the operation began (quota, admission, ...), if any. Events are
     * filtered here rather than with a field selector: they live about an hour, so a namespace holds few of them,
     * and the same code then runs against the mock API server of the tests, which ignores such selectors.
     */
    private Optional<String> failedCreate(KubernetesClient k8s, String namespace, String name, Instant since) {
        List<Event> events = call("list", "Event", namespace, () -> k8s.v1().events().inNamespace(namespace)
                .list().getItems());
        return events.stream()
                .filter(e -> e.getInvolvedObject() != null && "StatefulSet".equals(e.getInvolvedObject().getKind())
                        && name.equals(e.getInvolvedObject().getName()))
                .filter(e -> "FailedCreate".equals(e.getReason()))
                .filter(e -> PodStatus.eventTime(e).map(t -> !t.isBefore(since.minusSeconds(1))).orElse(false))
                .max((a, b) -> PodStatus.eventTime(a).orElseThrow().compareTo(PodStatus.eventTime(b).orElseThrow()))
                .map(Event::getMessage);
    }

    private static Map<String, String> connection(String namespace, String name, Pod pod) {
        String podName = pod.getMetadata().getName();
        Map<String, String> c = new LinkedHashMap<>();
        c.put("type", "kubernetes");
        c.put("namespace", namespace);
        c.put("pod", podName);
        c.put("container", WorkspaceObjects.CONTAINER);
        c.put("statefulSet", name);
        c.put("persistentVolumeClaim", WorkspaceObjects.claimName(name));
        if (pod.getStatus() != null && pod.getStatus().getPodIP() != null) {
            c.put("podIP", pod.getStatus().getPodIP());
        }
        if (pod.getSpec() != null && pod.getSpec().getNodeName() != null) {
            c.put("node", pod.getSpec().getNodeName());
        }
        c.put("exec", "kubectl exec -it -n " + namespace + " " + podName + " -c " + WorkspaceObjects.CONTAINER
                + " -- /bin/sh");
        return c;
    }

    private static ResourceDescription describeObject(HasMetadata o, ResourceDescription.State state) {
        String namespace = o.getMetadata().getNamespace();
        return new ResourceDescription(o.getKind() + ":" + namespace + "/" + o.getMetadata().getName(), state,
                labels(o), Map.of("kind", o.getKind(), "namespace", namespace, "name", o.getMetadata().getName()));
    }

    private static String podName(StatefulSet set) {
        return WorkspaceObjects.podName(set.getMetadata().getName());
    }

    private static Map<String, String> labels(HasMetadata o) {
        return o.getMetadata().getLabels() == null ? Map.of() : Map.copyOf(o.getMetadata().getLabels());
    }

    private static String label(HasMetadata o, String key) {
        return o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(key);
    }

    private static String labelPatch(Map<String, String> labels) {
        StringBuilder json = new StringBuilder("{\"metadata\":{\"labels\":{");
        String sep = "";
        for (var e : labels.entrySet()) {
            // Keys and values are checked label syntax: no quotes or backslashes to escape.
            json.append(sep).append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
            sep = ",";
        }
        return json.append("}}}").toString();
    }

    // --- plumbing ------------------------------------------------------------------------------------------------

    private KubernetesSpec spec(ProvisionRequest request) {
        try {
            return KubernetesSpec.parse(request.spec());
        } catch (IllegalArgumentException e) {
            throw ProviderException.permanent(e.getMessage());
        }
    }

    /**
     * The namespace of the workspace: where it already lives (from its resource id) or, for a new one, the
     * template's namespace or the configured default. A template version naming another namespace does not move a
     * workspace: its home volume cannot follow.
     */
    private String namespace(ProvisionRequest request, KubernetesSpec spec) {
        String wanted = spec != null ? spec.namespace() : request.spec().get("namespace") instanceof String s ? s : null;
        String existing = request.resourceId() != null && request.resourceId().contains("/")
                ? request.resourceId().substring(0, request.resourceId().indexOf('/')) : null;
        if (existing != null) {
            if (!KubernetesSpec.isDnsLabel(existing)) {
                throw ProviderException.permanent("resource id '" + request.resourceId() + "' names no namespace");
            }
            if (spec != null && wanted != null && !wanted.equals(existing)) {
                throw ProviderException.permanent("the template now asks for namespace '" + wanted + "' but the "
                        + "workspace lives in '" + existing + "' and its home volume cannot move: delete the workspace "
                        + "and create it again, or keep the namespace in the template");
            }
            return existing;
        }
        if (wanted != null) {
            return wanted;
        }
        return defaultNamespace();
    }

    String defaultNamespace() {
        if (configuredNamespace != null) {
            return configuredNamespace;
        }
        String fromClient = client().getNamespace();
        return fromClient == null || fromClient.isBlank() ? "default" : fromClient;
    }

    private static String resourceId(String namespace, String name) {
        return namespace + "/" + name;
    }

    KubernetesClient client() {
        KubernetesClient current = client;
        if (current == null) {
            synchronized (this) {
                if (client == null) {
                    try {
                        client = clientFactory.get();
                    } catch (KubernetesClientException e) {
                        throw ProviderException.retryable("could not set up the Kubernetes client: " + e.getMessage(), e);
                    }
                }
                current = client;
            }
        }
        return current;
    }

    /** Runs one API call and turns its failure into a {@link ProviderException} that says what to do. */
    private static <T> T call(String verb, String kind, String namespace, Supplier<T> action) {
        try {
            return action.get();
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(verb, kind, namespace, e);
        }
    }
}
