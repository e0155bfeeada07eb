package dev.atelier.providers.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The mock API server in CRUD mode stores objects but runs no controller and no kubelet, so tests play their part
 * explicitly with this class: for every Atelier StatefulSet it creates the pod {@code <name>-0} from the pod
 * template when one replica is wanted, deletes it when none is, and replaces a pod of an older template (build).
 * What the "kubelet" reports for a new pod is up to the test ({@link #podStatus}), by default Running and Ready.
 */
final class FakeStatefulSetController implements AutoCloseable {

    private final KubernetesClient client;
    private volatile Function<Pod, PodStatus> podStatus = FakeStatefulSetController::ready;
    private ScheduledExecutorService loop;

    FakeStatefulSetController(KubernetesClient client) {
        this.client = client;
    }

    /** What new pods report from now on. */
    FakeStatefulSetController podStatus(Function<Pod, PodStatus> status) {
        this.podStatus = status;
        return this;
    }

    /** Reconciles every 50 ms in the background, like a controller would (for the end-to-end test). */
    FakeStatefulSetController runInBackground() {
        loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fake-statefulset-controller");
            t.setDaemon(true);
            return t;
        });
        loop.scheduleWithFixedDelay(() -> {
            try {
                reconcile();
            } catch (RuntimeException e) {
                // A race with the provider deleting the same objects; the next round sees the new state.
            }
        }, 0, 50, TimeUnit.MILLISECONDS);
        return this;
    }

    /** One round: makes pods match every Atelier StatefulSet's replicas and template. */
    synchronized void reconcile() {
        for (StatefulSet set : client.apps().statefulSets().inAnyNamespace()
                .withLabel(WorkspaceObjects.MANAGED_BY, WorkspaceObjects.MANAGER).list().getItems()) {
            String namespace = set.getMetadata().getNamespace();
            String podName = set.getMetadata().getName() + "-0";
            Pod pod = client.pods().inNamespace(namespace).withName(podName).get();
            int replicas = Objects.requireNonNullElse(set.getSpec().getReplicas(), 1);
            Map<String, String> templateLabels = set.getSpec().getTemplate().getMetadata().getLabels();
            if (pod != null && (replicas == 0 || !templateLabels.get(WorkspaceObjects.BUILD_LABEL)
                    .equals(pod.getMetadata().getLabels().get(WorkspaceObjects.BUILD_LABEL)))) {
                client.pods().inNamespace(namespace).withName(podName).delete();
                pod = null;
            }
            if (pod == null && replicas > 0) {
                Pod created = client.pods().inNamespace(namespace).resource(new PodBuilder()
                        .withNewMetadata().withNamespace(namespace).withName(podName).withLabels(templateLabels)
                        .endMetadata()
                        .withSpec(set.getSpec().getTemplate().getSpec())
                        .build()).create();
                setStatus(created, podStatus.apply(created));
            }
        }
    }

    /** Sets a pod's status as the kubelet would. */
    void setStatus(Pod pod, PodStatus status) {
        client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                .editStatus(p -> new PodBuilder(p).withStatus(status).build());
    }

    static PodStatus ready(Pod pod) {
        return new PodStatusBuilder().withPhase("Running").withPodIP("10.244.0.17")
                .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("True").build(),
                        new PodConditionBuilder().withType("Ready").withStatus("True").build())
                .withContainerStatuses(new ContainerStatusBuilder().withName(WorkspaceObjects.CONTAINER).withReady(true)
                        .withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning().endState()
                        .build())
                .build();
    }

    static PodStatus pending(Pod pod) {
        return new PodStatusBuilder().withPhase("Pending")
                .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("True").build(),
                        new PodConditionBuilder().withType("Ready").withStatus("False").build())
                .build();
    }

    static PodStatus waiting(String reason, String message) {
        return new PodStatusBuilder().withPhase("Pending")
                .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("True").build(),
                        new PodConditionBuilder().withType("Ready").withStatus("False").withReason("ContainersNotReady")
                                .build())
                .withContainerStatuses(new ContainerStatusBuilder().withName(WorkspaceObjects.CONTAINER).withReady(false)
                        .withNewState().withNewWaiting().withReason(reason).withMessage(message).endWaiting().endState()
                        .build())
                .build();
    }

    static PodStatus unschedulable(String message) {
        return new PodStatusBuilder().withPhase("Pending")
                .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("False")
                        .withReason("Unschedulable").withMessage(message).build())
                .build();
    }

    @Override
    public void close() {
        if (loop != null) {
            loop.shutdownNow();
        }
    }
}
