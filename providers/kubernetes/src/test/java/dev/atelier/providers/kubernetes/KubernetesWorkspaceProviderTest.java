package dev.atelier.providers.kubernetes;

import dev.atelier.provider.IpRange;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceAgent;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@code kubernetes} provider against fabric8's mock API server in CRUD mode: it stores and serves objects
 * like an API server, but no controller or kubelet runs. Where a cluster would act on its own (a StatefulSet's pod
 * appearing, becoming Ready or failing to pull its image, going away when scaled to zero) the test does it through
 * {@link FakeStatefulSetController}, visibly.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesWorkspaceProviderTest {

    static final String NAMESPACE = "atelier-test";
    static final String TOKEN = "agent-token-" + UUID.randomUUID();
    static final List<String> INGRESS = List.of("10.20.0.0/16", "192.168.5.0/24");

    static KubernetesClient client;
    KubernetesWorkspaceProvider provider;
    FakeStatefulSetController controller;

    @BeforeEach
    void provider() {
        provider = new KubernetesWorkspaceProvider(() -> client, NAMESPACE, INGRESS, Duration.ofMillis(10));
        controller = new FakeStatefulSetController(client);
    }

    @AfterEach
    void cleanUp() {
        controller.close();
    }

    @Test
    void createAppliesLabelledObjectsWithTheTemplatesResourcesGpuStorageAndScheduling() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, gpuSpec());
        ProviderOperation op = provider.create(request);

        assertThat(op.done()).isFalse();
        String name = "atelier-" + request.workspaceId();
        assertThat(op.resourceId()).isEqualTo("ml-team/" + name);

        StatefulSet set = client.apps().statefulSets().inNamespace("ml-team").withName(name).get();
        assertThat(set.getSpec().getReplicas()).isEqualTo(1);
        assertLabels(set, request.workspaceId(), "1");
        assertThat(set.getSpec().getSelector().getMatchLabels()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "atelier-workspace-id", request.workspaceId(), "app.kubernetes.io/managed-by", "atelier"));
        assertThat(set.getMetadata().getAnnotations()).containsEntry("atelier.dev/owner", "alice@example.com");
        var pod = set.getSpec().getTemplate();
        assertThat(pod.getMetadata().getLabels()).containsEntry("atelier-workspace-id", request.workspaceId())
                .containsEntry("atelier-build", "1").containsEntry("app.kubernetes.io/managed-by", "atelier");
        assertThat(pod.getSpec().getNodeSelector()).containsExactlyEntriesOf(Map.of("accelerator", "nvidia-l4"));
        assertThat(pod.getSpec().getTolerations()).singleElement().satisfies(t -> {
            assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
            assertThat(t.getOperator()).isEqualTo("Exists");
            assertThat(t.getEffect()).isEqualTo("NoSchedule");
        });
        assertThat(pod.getSpec().getServiceAccountName()).isEqualTo("ml-runner");
        assertThat(pod.getSpec().getAutomountServiceAccountToken())
                .as("no Kubernetes API token in a workspace, even with a service account").isFalse();
        assertThat(pod.getSpec().getImagePullSecrets()).extracting("name").containsExactly("registry-credentials");

        Container container = pod.getSpec().getContainers().get(0);
        assertThat(pod.getSpec().getContainers()).hasSize(1);
        assertThat(container.getImage()).isEqualTo("nvcr.io/nvidia/pytorch:24.05-py3");
        assertThat(container.getResources().getRequests()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "cpu", new Quantity("4"), "memory", new Quantity("16Gi")));
        assertThat(container.getResources().getLimits()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "cpu", new Quantity("8"), "memory", new Quantity("32Gi"), "nvidia.com/gpu", new Quantity("2")));
        assertThat(container.getCommand()).startsWith("/bin/sh", "-c", WorkspaceObjects.ENTRYPOINT, "atelier-entrypoint")
                .endsWith("python", "-m", "http.server", "8888");
        assertThat(container.getWorkingDir()).isEqualTo("/home/ml");
        assertThat(container.getVolumeMounts()).extracting("name", "mountPath").contains(
                org.assertj.core.groups.Tuple.tuple("home", "/home/ml"),
                org.assertj.core.groups.Tuple.tuple("atelier-agent", "/var/run/atelier"));
        assertThat(env(container)).containsEntry("HOME", "/home/ml").containsEntry("ATELIER_WORKSPACE_ID",
                request.workspaceId()).containsEntry("ATELIER_PARAM_DATASET", "imagenet").containsEntry("HF_HOME",
                "/home/ml/.cache");

        PersistentVolumeClaim claim = client.persistentVolumeClaims().inNamespace("ml-team").withName(name + "-home").get();
        assertLabels(claim, request.workspaceId(), "1");
        assertThat(claim.getSpec().getResources().getRequests().get("storage")).isEqualTo(new Quantity("200Gi"));
        assertThat(claim.getSpec().getStorageClassName()).isEqualTo("fast-ssd");
        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        assertThat(pod.getSpec().getVolumes()).anySatisfy(v -> {
            assertThat(v.getName()).isEqualTo("home");
            assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo(name + "-home");
        });

        assertLabels(client.secrets().inNamespace("ml-team").withName(name).get(), request.workspaceId(), "1");
        NetworkPolicy policy = client.network().v1().networkPolicies().inNamespace("ml-team").withName(name).get();
        assertLabels(policy, request.workspaceId(), "1");
        assertThat(policy.getSpec().getPodSelector().getMatchLabels())
                .isEqualTo(set.getSpec().getSelector().getMatchLabels());
        assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(rule.getFrom()).extracting(NetworkPolicyPeer::getIpBlock).extracting(IPBlock::getCidr)
                    .containsExactlyElementsOf(INGRESS);
            assertThat(rule.getFrom()).allSatisfy(peer -> {
                assertThat(peer.getPodSelector()).isNull();
                assertThat(peer.getNamespaceSelector()).isNull();
            });
            assertThat(rule.getPorts()).isEmpty();
        });
        // Default egress: anywhere (one empty rule).
        assertThat(policy.getSpec().getEgress()).singleElement().satisfies(rule -> {
            assertThat(rule.getTo()).isEmpty();
            assertThat(rule.getPorts()).isEmpty();
        });
    }

    @Test
    void withoutAGpuNoGpuIsRequestedAndTheDefaultsApply() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, Map.of("image", "ubuntu:24.04"));
        provider.create(request);
        String name = "atelier-" + request.workspaceId();

        StatefulSet set = client.apps().statefulSets().inNamespace(NAMESPACE).withName(name).get();
        Container container = set.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getResources().getLimits()).isNullOrEmpty();
        assertThat(container.getCommand()).endsWith(WorkspaceObjects.IDLE.toArray(String[]::new));
        assertThat(set.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
                .as("no Kubernetes API credentials in a workspace").isFalse();
        PersistentVolumeClaim claim = client.persistentVolumeClaims().inNamespace(NAMESPACE).withName(name + "-home").get();
        assertThat(claim.getSpec().getResources().getRequests().get("storage")).isEqualTo(new Quantity("10Gi"));
        assertThat(claim.getSpec().getStorageClassName()).isNull();
    }

    @Test
    void theAgentTokenIsInASecretAndNotInThePodSpec() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, Map.of("image", "ubuntu:24.04"));
        provider.create(request);
        String name = "atelier-" + request.workspaceId();

        StatefulSet set = client.apps().statefulSets().inNamespace(NAMESPACE).withName(name).get();
        assertThat(Serialization.asJson(set)).doesNotContain(TOKEN);
        Container container = set.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(container)).doesNotContainKey("ATELIER_AGENT_TOKEN");
        assertThat(set.getSpec().getTemplate().getSpec().getVolumes()).anySatisfy(v -> {
            assertThat(v.getName()).isEqualTo("atelier-agent");
            assertThat(v.getSecret().getSecretName()).isEqualTo(name);
        });

        Secret secret = client.secrets().inNamespace(NAMESPACE).withName(name).get();
        assertThat(decode(secret, "agent.env")).contains("export ATELIER_AGENT_TOKEN='" + TOKEN + "'")
                .contains("export ATELIER_URL='http://atelier.example:8080'");
        assertThat(decode(secret, "agent.sh")).isEqualTo(agent().script());
    }

    @Test
    void createIsPolledUntilThePodIsReadyAndThenGivesKubectlExecInstructions() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, Map.of("image", "ubuntu:24.04"));
        ProviderOperation op = provider.create(request);
        ProvisionRequest polling = withResource(request, op.resourceId());
        assertThat(provider.poll(polling, op.operationId()).done()).as("no pod yet").isFalse();

        // The controller creates the pod; the kubelet has not started it yet.
        controller.podStatus(FakeStatefulSetController::pending).reconcile();
        assertThat(provider.poll(polling, op.operationId()).done()).as("pod not ready").isFalse();
        assertThat(provider.describe(polling).state()).isEqualTo(ResourceDescription.State.PROVISIONING);

        // The kubelet reports the container running and ready.
        Pod pod = client.pods().inNamespace(NAMESPACE).withName("atelier-" + request.workspaceId() + "-0").get();
        controller.setStatus(pod, FakeStatefulSetController.ready(pod));
        ProviderOperation ready = provider.poll(polling, op.operationId());
        assertThat(ready.done()).isTrue();
        assertThat(ready.resourceId()).isEqualTo(NAMESPACE + "/atelier-" + request.workspaceId());
        assertThat(ready.connection()).containsEntry("type", "kubernetes").containsEntry("namespace", NAMESPACE)
                .containsEntry("pod", pod.getMetadata().getName()).containsEntry("container", "workspace")
                .containsEntry("podIP", "10.244.0.17")
                .containsEntry("exec", "kubectl exec -it -n " + NAMESPACE + " " + pod.getMetadata().getName()
                        + " -c workspace -- /bin/sh");
        assertThat(provider.describe(polling).state()).isEqualTo(ResourceDescription.State.RUNNING);
    }

    @Test
    void aRetriedCreateOfTheSameBuildMakesNoSecondObject() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, gpuSpec());
        ProviderOperation first = provider.create(request);
        controller.reconcile();
        Pod pod = client.pods().inNamespace("ml-team").withName("atelier-" + request.workspaceId() + "-0").get();
        String claimUid = client.persistentVolumeClaims().inNamespace("ml-team")
                .withName("atelier-" + request.workspaceId() + "-home").get().getMetadata().getUid();

        ProviderOperation again = provider.create(request);
        controller.reconcile();

        assertThat(again.resourceId()).isEqualTo(first.resourceId());
        assertThat(objects("ml-team", request.workspaceId())).containsExactlyInAnyOrder(
                "StatefulSet/atelier-" + request.workspaceId(),
                "Pod/atelier-" + request.workspaceId() + "-0",
                "PersistentVolumeClaim/atelier-" + request.workspaceId() + "-home",
                "Secret/atelier-" + request.workspaceId(),
                "NetworkPolicy/atelier-" + request.workspaceId());
        assertThat(client.pods().inNamespace("ml-team").withName(pod.getMetadata().getName()).get().getMetadata().getUid())
                .as("the running pod of the same build is left alone").isEqualTo(pod.getMetadata().getUid());
        assertThat(client.persistentVolumeClaims().inNamespace("ml-team")
                .withName("atelier-" + request.workspaceId() + "-home").get().getMetadata().getUid()).isEqualTo(claimUid);
        assertThat(provider.poll(withResource(request, again.resourceId()), again.operationId()).done()).isTrue();
    }

    @Test
    void stopScalesToZeroAndKeepsTheHomeVolumeAndStartBringsItBack() {
        String id = UUID.randomUUID().toString();
        String name = "atelier-" + id;
        ProvisionRequest create = request(id, 1, null, Map.of("image", "ubuntu:24.04", "storageGb", 5));
        String resourceId = run(create);
        String claimUid = client.persistentVolumeClaims().inNamespace(NAMESPACE).withName(name + "-home").get()
                .getMetadata().getUid();

        ProvisionRequest stop = request(id, 2, resourceId, create.spec());
        ProviderOperation stopping = provider.stop(stop);
        assertThat(client.apps().statefulSets().inNamespace(NAMESPACE).withName(name).get().getSpec().getReplicas())
                .isZero();
        assertThat(stopping.done()).as("the pod is still there").isFalse();
        assertThat(provider.poll(stop, stopping.operationId()).done()).isFalse();
        controller.reconcile(); // the controller removes the pod of the scaled-down StatefulSet
        assertThat(provider.poll(stop, stopping.operationId()).done()).isTrue();

        assertThat(objects(NAMESPACE, id)).containsExactlyInAnyOrder("StatefulSet/" + name,
                "PersistentVolumeClaim/" + name + "-home", "Secret/" + name, "NetworkPolicy/" + name);
        assertThat(client.persistentVolumeClaims().inNamespace(NAMESPACE).withName(name + "-home").get()
                .getMetadata().getUid()).isEqualTo(claimUid);
        assertThat(provider.describe(stop).state()).isEqualTo(ResourceDescription.State.STOPPED);
        assertThat(provider.stop(stop).done()).as("stopping a stopped workspace").isTrue();

        ProvisionRequest start = request(id, 3, resourceId, create.spec());
        ProviderOperation starting = provider.start(start);
        StatefulSet set = client.apps().statefulSets().inNamespace(NAMESPACE).withName(name).get();
        assertThat(set.getSpec().getReplicas()).isEqualTo(1);
        assertLabels(set, id, "3");
        assertLabels(client.persistentVolumeClaims().inNamespace(NAMESPACE).withName(name + "-home").get(), id, "3");
        assertThat(provider.poll(start, starting.operationId()).done()).isFalse();
        controller.reconcile();
        assertThat(provider.poll(start, starting.operationId()).done()).isTrue();
        assertThat(client.persistentVolumeClaims().inNamespace(NAMESPACE).withName(name + "-home").get()
                .getMetadata().getUid()).as("the same home volume").isEqualTo(claimUid);
    }

    @Test
    void operationIdsStoredBeforeOperationIdExistedAreStillPolled() {
        // A transition saga in flight across the upgrade polls with the id it stored then: <phase>:<key>:<millis>.
        String id = UUID.randomUUID().toString();
        ProvisionRequest create = request(id, 1, null, Map.of("image", "ubuntu:24.04"));
        ProviderOperation op = provider.create(create);
        ProvisionRequest polling = withResource(create, op.resourceId());
        String oldStart = "start:" + create.idempotencyKey() + ":" + Instant.now().minusSeconds(5).toEpochMilli();
        ProviderOperation waiting = provider.poll(polling, oldStart);
        assertThat(waiting.done()).as("no pod yet").isFalse();
        assertThat(OperationId.parse("kubernetes", waiting.operationId()).kind()).isEqualTo("start");
        controller.podStatus(FakeStatefulSetController::ready).reconcile();
        assertThat(provider.poll(polling, oldStart).done()).isTrue();

        ProvisionRequest stop = request(id, 2, op.resourceId(), create.spec());
        provider.stop(stop);
        String oldStop = "stop:" + stop.idempotencyKey() + ":" + Instant.now().toEpochMilli();
        assertThat(provider.poll(stop, oldStop).done()).isFalse();
        controller.reconcile();
        assertThat(provider.poll(stop, oldStop).done()).isTrue();
        assertThatThrownBy(() -> provider.poll(stop, "stop-please")).isInstanceOf(ProviderException.class)
                .hasMessage("unknown kubernetes operation 'stop-please'");
    }

    @Test
    void startReplacesAFailedPodOfAnEarlierBuild() {
        String id = UUID.randomUUID().toString();
        ProvisionRequest create = request(id, 1, null, Map.of("image", "ubuntu:24.04"));
        ProviderOperation op = provider.create(create);
        controller.podStatus(p -> FakeStatefulSetController.waiting("CrashLoopBackOff", "back-off 5m0s")).reconcile();
        String oldUid = client.pods().inNamespace(NAMESPACE).withName("atelier-" + id + "-0").get().getMetadata().getUid();
        assertThatThrownBy(() -> provider.poll(withResource(create, op.resourceId()), op.operationId()))
                .isInstanceOf(ProviderException.class);

        ProvisionRequest start = request(id, 2, op.resourceId(), create.spec());
        ProviderOperation starting = provider.start(start);
        assertThat(client.pods().inNamespace(NAMESPACE).withName("atelier-" + id + "-0").get())
                .as("the provider deleted the failed pod of build 1").isNull();
        controller.podStatus(FakeStatefulSetController::ready).reconcile();
        Pod pod = client.pods().inNamespace(NAMESPACE).withName("atelier-" + id + "-0").get();
        assertThat(pod.getMetadata().getUid()).isNotEqualTo(oldUid);
        assertThat(provider.poll(start, starting.operationId()).done()).isTrue();
    }

    @Test
    void deleteLeavesNoLabelledObjectAndIsIdempotent() {
        String id = UUID.randomUUID().toString();
        String other = UUID.randomUUID().toString();
        String resourceId = run(request(id, 1, null, Map.of("image", "ubuntu:24.04")));
        run(request(other, 1, null, Map.of("image", "ubuntu:24.04")));

        ProvisionRequest delete = request(id, 2, resourceId, Map.of("image", "ubuntu:24.04"));
        ProviderOperation deleting = provider.delete(delete);
        ProviderOperation done = deleting.done() ? deleting : provider.poll(delete, deleting.operationId());
        assertThat(done.done()).isTrue();
        assertThat(done.resourceId()).isNull();

        assertThat(objects(NAMESPACE, id)).isEmpty();
        assertThat(client.pods().inAnyNamespace().withLabel("atelier-workspace-id", id).list().getItems()).isEmpty();
        assertThat(objects(NAMESPACE, other)).as("another workspace is untouched").hasSize(5);
        assertThat(provider.describe(delete).state()).isEqualTo(ResourceDescription.State.ABSENT);
        assertThat(provider.delete(delete).done()).as("deleting what is gone").isTrue();
    }

    @Test
    void aPodStuckInImagePullBackOffIsAPermanentFailureWithItsReason() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, Map.of("image", "registry.invalid/nope:1"));
        ProviderOperation op = provider.create(request);
        controller.podStatus(p -> FakeStatefulSetController.waiting("ImagePullBackOff",
                "Back-off pulling image \"registry.invalid/nope:1\"")).reconcile();

        assertThatThrownBy(() -> provider.poll(withResource(request, op.resourceId()), op.operationId()))
                .isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.getMessage()).contains("ImagePullBackOff")
                            .contains("Back-off pulling image \"registry.invalid/nope:1\"")
                            .contains("atelier-" + request.workspaceId() + "-0");
                });
        assertThat(provider.describe(withResource(request, op.resourceId())).state())
                .isEqualTo(ResourceDescription.State.FAILED);
    }

    @Test
    void anUnschedulablePodIsAPermanentFailureWithTheSchedulersMessage() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, gpuSpec());
        ProviderOperation op = provider.create(request);
        controller.podStatus(p -> FakeStatefulSetController.unschedulable(
                "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")).reconcile();

        assertThatThrownBy(() -> provider.poll(withResource(request, op.resourceId()), op.operationId()))
                .isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.getMessage()).contains("Unschedulable").contains("3 Insufficient nvidia.com/gpu");
                });
    }

    @Test
    void aCrashLoopIsAPermanentFailureWithTheExitCode() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, Map.of("image", "ubuntu:24.04",
                "command", List.of("false")));
        ProviderOperation op = provider.create(request);
        controller.podStatus(p -> {
            var status = FakeStatefulSetController.waiting("CrashLoopBackOff", "back-off 40s restarting failed container");
            status.getContainerStatuses().get(0).setLastState(new io.fabric8.kubernetes.api.model.ContainerStateBuilder()
                    .withNewTerminated().withExitCode(1).withReason("Error").endTerminated().build());
            return status;
        }).reconcile();

        assertThatThrownBy(() -> provider.poll(withResource(request, op.resourceId()), op.operationId()))
                .isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.getMessage()).contains("CrashLoopBackOff").contains("last exit code 1");
                });
    }

    @Test
    void aPodTheStatefulSetCannotCreateFailsWithTheEventsMessage() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, Map.of("image", "ubuntu:24.04"));
        ProviderOperation op = provider.create(request);
        String name = "atelier-" + request.workspaceId();
        // What the StatefulSet controller reports when a ResourceQuota refuses the pod.
        client.v1().events().inNamespace(NAMESPACE).resource(new EventBuilder()
                .withNewMetadata().withName(name + ".quota").withNamespace(NAMESPACE).endMetadata()
                .withNewInvolvedObject().withKind("StatefulSet").withName(name).withNamespace(NAMESPACE).endInvolvedObject()
                .withReason("FailedCreate").withType("Warning")
                .withMessage("create Pod " + name + "-0 in StatefulSet " + name + " failed error: pods \"" + name
                        + "-0\" is forbidden: exceeded quota: compute, requested: limits.memory=64Gi")
                .withLastTimestamp(Instant.now().toString())
                .build()).create();

        assertThatThrownBy(() -> provider.poll(withResource(request, op.resourceId()), op.operationId()))
                .isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.getMessage()).contains("exceeded quota: compute");
                });
    }

    @Test
    void anOldFailedCreateEventDoesNotFailANewStart() {
        ProvisionRequest request = request(UUID.randomUUID().toString(), 1, null, Map.of("image", "ubuntu:24.04"));
        String name = "atelier-" + request.workspaceId();
        client.v1().events().inNamespace(NAMESPACE).resource(new EventBuilder()
                .withNewMetadata().withName(name + ".old").withNamespace(NAMESPACE).endMetadata()
                .withNewInvolvedObject().withKind("StatefulSet").withName(name).withNamespace(NAMESPACE).endInvolvedObject()
                .withReason("FailedCreate").withMessage("exceeded quota (yesterday)")
                .withLastTimestamp(Instant.now().minus(Duration.ofDays(1)).toString())
                .build()).create();
        ProviderOperation op = provider.create(request);
        assertThat(provider.poll(withResource(request, op.resourceId()), op.operationId()).done()).isFalse();
    }

    @Test
    void aWorkspaceStaysInItsNamespaceWhenTheTemplateNamesAnotherOne() {
        String id = UUID.randomUUID().toString();
        String resourceId = run(request(id, 1, null, Map.of("image", "ubuntu:24.04")));
        ProvisionRequest moved = request(id, 2, resourceId, Map.of("image", "ubuntu:24.04", "namespace", "elsewhere"));

        assertThatThrownBy(() -> provider.start(moved)).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("'elsewhere'").contains("'" + NAMESPACE + "'");
        });
        // Stop and delete still find it where it lives.
        ProviderOperation stopping = provider.stop(moved);
        assertThat(stopping.resourceId()).isEqualTo(resourceId);
        assertThat(client.apps().statefulSets().inNamespace(NAMESPACE).withName("atelier-" + id).get().getSpec()
                .getReplicas()).isZero();
    }

    @Test
    void inventoryListsTheLabelledObjects() {
        String first = UUID.randomUUID().toString();
        String second = UUID.randomUUID().toString();
        run(request(first, 1, null, Map.of("image", "ubuntu:24.04")));
        run(request(second, 1, null, Map.of("image", "ubuntu:24.04", "namespace", "team-b")));

        List<ResourceDescription> mine = provider.inventory(Map.of("atelier-workspace-id", first));
        assertThat(mine).extracting(ResourceDescription::resourceId).containsExactlyInAnyOrder(
                "StatefulSet:" + NAMESPACE + "/atelier-" + first,
                "Pod:" + NAMESPACE + "/atelier-" + first + "-0",
                "PersistentVolumeClaim:" + NAMESPACE + "/atelier-" + first + "-home",
                "Secret:" + NAMESPACE + "/atelier-" + first,
                "NetworkPolicy:" + NAMESPACE + "/atelier-" + first);
        assertThat(mine).allSatisfy(r -> assertThat(r.labels()).containsEntry("atelier-workspace-id", first)
                .containsEntry("atelier-build", "1"));
        assertThat(mine).filteredOn(r -> r.resourceId().startsWith("StatefulSet:")).singleElement()
                .extracting(ResourceDescription::state).isEqualTo(ResourceDescription.State.RUNNING);

        List<String> all = provider.inventory(Map.of()).stream().map(ResourceDescription::resourceId).toList();
        assertThat(all).contains("StatefulSet:team-b/atelier-" + second, "StatefulSet:" + NAMESPACE + "/atelier-" + first);
    }

    @Test
    void egressNeverReachesTheEnginesDatabaseWhateverTheTemplateAllows() {
        List<IpRange> denied = List.of(IpRange.parse("10.96.0.15/32"), IpRange.parse("fd00::15/128"));
        KubernetesWorkspaceProvider guarded = new KubernetesWorkspaceProvider(() -> client, NAMESPACE, List.of(),
                denied, Duration.ofMillis(10));

        String anywhere = UUID.randomUUID().toString();
        guarded.create(request(anywhere, 1, null, Map.of("image", "ubuntu:24.04")));
        assertThat(policy(anywhere).getSpec().getEgress()).singleElement().satisfies(rule -> {
            assertThat(rule.getTo()).extracting(p -> p.getIpBlock().getCidr()).containsExactly("0.0.0.0/0", "::/0");
            assertThat(rule.getTo().get(0).getIpBlock().getExcept()).containsExactly("10.96.0.15/32");
            assertThat(rule.getTo().get(1).getIpBlock().getExcept()).containsExactly("fd00:0:0:0:0:0:0:15/128");
            assertThat(rule.getTo()).allSatisfy(p -> assertThat(p.getPodSelector()).isNull());
        });

        String listed = UUID.randomUUID().toString();
        guarded.create(request(listed, 1, null, Map.of("image", "ubuntu:24.04",
                "networkPolicy", Map.of("egress", List.of("10.96.0.0/16", "192.168.7.0/24"), "allowDns", false))));
        assertThat(policy(listed).getSpec().getEgress()).singleElement().satisfies(rule -> {
            assertThat(rule.getTo().get(0).getIpBlock().getExcept()).containsExactly("10.96.0.15/32");
            assertThat(rule.getTo().get(1).getIpBlock().getExcept()).isNullOrEmpty();
        });

        assertThat(guarded.validateSpec(Map.of("image", "ubuntu:24.04",
                "networkPolicy", Map.of("egress", List.of("10.96.0.15/32")))))
                .singleElement().asString().contains("'10.96.0.15/32' lies within 10.96.0.15/32");
        assertThat(provider.validateSpec(Map.of("image", "ubuntu:24.04",
                "networkPolicy", Map.of("egress", List.of("10.96.0.15/32"))))).as("nothing denied").isEmpty();
        // Without denied ranges "anywhere" stays the one empty rule.
        String open = UUID.randomUUID().toString();
        provider.create(request(open, 1, null, Map.of("image", "ubuntu:24.04")));
        assertThat(policy(open).getSpec().getEgress()).singleElement().satisfies(r -> assertThat(r.getTo()).isEmpty());
    }

    @Test
    void withoutIngressCidrsNoIngressIsAllowedAndEgressFollowsTheSpec() {
        KubernetesWorkspaceProvider closed = new KubernetesWorkspaceProvider(() -> client, NAMESPACE, List.of(),
                Duration.ofMillis(10));
        String denied = UUID.randomUUID().toString();
        closed.create(request(denied, 1, null, Map.of("image", "ubuntu:24.04",
                "networkPolicy", Map.of("egress", "deny-all"))));
        NetworkPolicy deny = policy(denied);
        assertThat(deny.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        assertThat(deny.getSpec().getIngress()).isEmpty();
        assertThat(deny.getSpec().getEgress()).isEmpty();

        String listed = UUID.randomUUID().toString();
        closed.create(request(listed, 1, null, Map.of("image", "ubuntu:24.04",
                "networkPolicy", Map.of("egress", List.of("10.0.0.0/8", "fd00::/8")))));
        NetworkPolicy list = policy(listed);
        assertThat(list.getSpec().getIngress()).isEmpty();
        assertThat(list.getSpec().getEgress()).hasSize(2);
        assertThat(list.getSpec().getEgress().get(0).getTo()).extracting(p -> p.getIpBlock().getCidr())
                .containsExactly("10.0.0.0/8", "fd00::/8");
        assertThat(list.getSpec().getEgress().get(0).getPorts()).isEmpty();
        var dns = list.getSpec().getEgress().get(1);
        assertThat(dns.getTo()).singleElement().satisfies(p -> assertThat(p.getNamespaceSelector().getMatchLabels())
                .containsExactlyEntriesOf(Map.of("kubernetes.io/metadata.name", "kube-system")));
        assertThat(dns.getPorts()).extracting(p -> p.getProtocol() + "/" + p.getPort().getIntVal())
                .containsExactlyInAnyOrder("UDP/53", "TCP/53");

        String noDns = UUID.randomUUID().toString();
        closed.create(request(noDns, 1, null, Map.of("image", "ubuntu:24.04",
                "networkPolicy", Map.of("egress", List.of("10.0.0.0/8"), "allowDns", false))));
        assertThat(policy(noDns).getSpec().getEgress()).singleElement()
                .satisfies(r -> assertThat(r.getTo()).extracting(p -> p.getIpBlock().getCidr()).containsExactly("10.0.0.0/8"));
    }

    @Test
    void namesAreDeterministicDnsLabelsShortEnoughForAStatefulSet() {
        String uuid = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b";
        assertThat(WorkspaceObjects.name(uuid)).isEqualTo("atelier-" + uuid);
        for (String id : List.of("Foo_Bar", "UPPER-case", "x".repeat(200), "-leading", "a.b.c", "äöü")) {
            String name = WorkspaceObjects.name(id);
            assertThat(name).as(id).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(47)
                    .isEqualTo(WorkspaceObjects.name(id));
        }
        assertThat(WorkspaceObjects.name("Foo_Bar")).isNotEqualTo(WorkspaceObjects.name("foo-bar"));
    }

    @Test
    void theSpecIsValidatedThroughTheProvider() {
        assertThat(provider.validateSpec(gpuSpec())).isEmpty();
        assertThat(provider.validateSpec(Map.of("image", "x", "gpus", 1))).singleElement().asString()
                .contains("unknown key 'gpus'").contains("known: args, command, env");
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    /** Creates the workspace, lets the controller start its pod and returns the resource id once it is ready. */
    private String run(ProvisionRequest request) {
        ProviderOperation op = provider.create(request);
        controller.podStatus(FakeStatefulSetController::ready).reconcile();
        ProviderOperation ready = provider.poll(withResource(request, op.resourceId()), op.operationId());
        assertThat(ready.done()).isTrue();
        return ready.resourceId();
    }

    static Map<String, Object> gpuSpec() {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("namespace", "ml-team");
        spec.put("image", "nvcr.io/nvidia/pytorch:24.05-py3");
        spec.put("command", List.of("python", "-m"));
        spec.put("args", List.of("http.server", "8888"));
        spec.put("env", Map.of("HF_HOME", "/home/ml/.cache"));
        spec.put("resources", Map.of("requests", Map.of("cpu", "4", "memory", "16Gi"),
                "limits", Map.of("cpu", 8, "memory", "32Gi"), "gpu", 2));
        spec.put("storageGb", 200);
        spec.put("storageClass", "fast-ssd");
        spec.put("homePath", "/home/ml");
        spec.put("nodeSelector", Map.of("accelerator", "nvidia-l4"));
        spec.put("tolerations", List.of(Map.of("key", "nvidia.com/gpu", "operator", "Exists", "effect", "NoSchedule")));
        spec.put("serviceAccount", "ml-runner");
        spec.put("imagePullSecrets", List.of("registry-credentials"));
        return spec;
    }

    static WorkspaceAgent agent() {
        return new WorkspaceAgent("#!/bin/sh\necho 'agent running'\n", Map.of("ATELIER_URL", "http://atelier.example:8080",
                "ATELIER_WORKSPACE_ID", "ws", "ATELIER_AGENT_TOKEN", TOKEN, "ATELIER_HEARTBEAT_SECONDS", "30"));
    }

    static ProvisionRequest request(String id, long build, String resourceId, Map<String, Object> spec) {
        return new ProvisionRequest(id, build, "alice@example.com", resourceId, spec, Map.of("dataset", "imagenet"),
                Map.of("atelier-workspace-id", id, "atelier-build", Long.toString(build)), agent());
    }

    static ProvisionRequest withAgent(WorkspaceAgent agent) {
        String id = UUID.randomUUID().toString();
        return new ProvisionRequest(id, 1, "alice@example.com", null, Map.of("image", "x"), Map.of(),
                Map.of("atelier-workspace-id", id, "atelier-build", "1"), agent);
    }

    static ProvisionRequest withResource(ProvisionRequest r, String resourceId) {
        return new ProvisionRequest(r.workspaceId(), r.buildNumber(), r.owner(), resourceId, r.spec(), r.parameters(),
                r.labels(), r.agent());
    }

    private NetworkPolicy policy(String id) {
        return client.network().v1().networkPolicies().inNamespace(NAMESPACE).withName("atelier-" + id).get();
    }

    /** Every object of the workspace in the namespace, as Kind/name. */
    List<String> objects(String namespace, String id) {
        List<HasMetadata> found = new ArrayList<>();
        found.addAll(client.apps().statefulSets().inNamespace(namespace).withLabel("atelier-workspace-id", id).list().getItems());
        found.addAll(client.pods().inNamespace(namespace).withLabel("atelier-workspace-id", id).list().getItems());
        found.addAll(client.persistentVolumeClaims().inNamespace(namespace).withLabel("atelier-workspace-id", id).list()
                .getItems());
        found.addAll(client.secrets().inNamespace(namespace).withLabel("atelier-workspace-id", id).list().getItems());
        found.addAll(client.network().v1().networkPolicies().inNamespace(namespace).withLabel("atelier-workspace-id", id)
                .list().getItems());
        return found.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
    }

    private static void assertLabels(HasMetadata object, String id, String build) {
        assertThat(object.getMetadata().getLabels()).as(object.getKind() + " labels")
                .containsEntry("atelier-workspace-id", id).containsEntry("atelier-build", build)
                .containsEntry("app.kubernetes.io/managed-by", "atelier");
    }

    private static Map<String, String> env(Container container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar v : container.getEnv()) {
            env.put(v.getName(), v.getValue());
        }
        return env;
    }

    private static String decode(Secret secret, String key) {
        return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }
}
