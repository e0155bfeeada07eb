package dev.atelier.providers.kubernetes;

import dev.atelier.provider.IpRange;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlockBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static dev.atelier.provider.ShellQuoting.quote;

/**
 * The Kubernetes objects of one workspace, all named after its id and labelled with its id and build: a
 * StatefulSet (one replica while running, none while stopped), the PersistentVolumeClaim of its home directory,
 * a Secret with the workspace agent (script and environment, including its token) and a NetworkPolicy.
 */
final class WorkspaceObjects {

    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String MANAGER = "atelier";
    static final String WORKSPACE_LABEL = "atelier-workspace-id";
    static final String BUILD_LABEL = "atelier-build";
    static final String OWNER_ANNOTATION = "atelier.dev/owner";
    static final String CONTAINER = "workspace";
    static final String AGENT_SCRIPT = "agent.sh";
    static final String AGENT_ENV = "agent.env";

    /**
     * The container's entrypoint: starts the workspace agent in the background with its environment read from the
     * mounted Secret (so the token is neither in the pod spec nor in the workspace's own environment), then runs
     * the template's command. Runs with {@code sh -c}; the command arrives as "$@", never spliced into the script.
     */
    static final String ENTRYPOINT = ""
            + "if [ -s " + KubernetesSpec.AGENT_DIR + "/" + AGENT_SCRIPT + " ]; then\n"
            + "  ( . " + KubernetesSpec.AGENT_DIR + "/" + AGENT_ENV + " && exec /bin/sh " + KubernetesSpec.AGENT_DIR
            + "/" + AGENT_SCRIPT + " ) >/dev/null 2>&1 &\n"
            + "fi\n"
            + "exec \"$@\"\n";
    /** What a workspace without a command runs: nothing but waiting, so that people and agents can exec into it. */
    static final List<String> IDLE = List.of("/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done");

    private WorkspaceObjects() {
    }

    /** The base name of a workspace's objects: DNS-1123 safe, short enough for a StatefulSet, stable per id. */
    static String name(String workspaceId) {
        if (workspaceId == null || workspaceId.isBlank()) {
            throw ProviderException.permanent("a workspace id is required");
        }
        String clean = workspaceId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("-+", "-")
                .replaceAll("^-|-$", "");
        String name = "atelier-" + clean;
        if (!clean.equals(workspaceId) || name.length() > 47) {
            // Not a DNS label as it is: keep it readable, and unique through a hash of the original id.
            String hash = sha256(workspaceId).substring(0, 8);
            name = ("atelier-" + clean).substring(0, Math.min(name.length(), 38)).replaceAll("-$", "") + "-" + hash;
        }
        return name;
    }

    static String podName(String name) {
        return name + "-0";
    }

    static String claimName(String name) {
        return name + "-home";
    }

    static Map<String, String> selector(String workspaceId) {
        return Map.of(WORKSPACE_LABEL, workspaceId, MANAGED_BY, MANAGER);
    }

    static Map<String, String> labels(ProvisionRequest request) {
        Map<String, String> labels = new TreeMap<>(request.labels());
        labels.put(WORKSPACE_LABEL, request.workspaceId());
        labels.put(BUILD_LABEL, Long.toString(request.buildNumber()));
        labels.put(MANAGED_BY, MANAGER);
        labels.forEach((k, v) -> {
            if (!KubernetesSpec.isLabelKey(k) || !KubernetesSpec.isLabelValue(v)) {
                throw ProviderException.permanent("label " + k + "=" + v + " is not a valid Kubernetes label");
            }
        });
        return labels;
    }

    static Secret secret(String namespace, String name, ProvisionRequest request) {
        WorkspaceAgent agent = request.agent();
        StringBuilder env = new StringBuilder("# Written by Atelier: the workspace agent's environment.\n");
        String script = "";
        if (agent != null) {
            new TreeMap<>(agent.environment()).forEach((k, v) -> env.append("export ").append(k).append('=')
                    .append(quote(v)).append('\n'));
            script = agent.script();
        }
        return new SecretBuilder()
                .withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels(request)).endMetadata()
                .withType("Opaque")
                .withImmutable(false)
                .addToData(AGENT_SCRIPT, base64(script))
                .addToData(AGENT_ENV, base64(env.toString()))
                .build();
    }

    static PersistentVolumeClaim claim(String namespace, String name, KubernetesSpec spec, ProvisionRequest request) {
        return new PersistentVolumeClaimBuilder()
                .withNewMetadata().withNamespace(namespace).withName(claimName(name)).withLabels(labels(request))
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName(spec.storageClass())
                .withNewResources().addToRequests("storage", new Quantity(spec.storageGb() + "Gi")).endResources()
                .endSpec()
                .build();
    }

    /**
     * Ingress only from the configured CIDRs; egress as the template asks, but never to {@code denied} (the
     * engine's database and whatever else the operator lists): "anywhere" becomes 0.0.0.0/0 and ::/0 with those
     * ranges excepted, and a template's CIDRs get the denied ranges inside them excepted.
     */
    static NetworkPolicy networkPolicy(String namespace, String name, KubernetesSpec spec, List<String> ingressCidrs,
                                       List<IpRange> denied, ProvisionRequest request) {
        List<NetworkPolicyIngressRule> ingress = new ArrayList<>();
        if (!ingressCidrs.isEmpty()) {
            ingress.add(new NetworkPolicyIngressRuleBuilder()
                    .withFrom(ingressCidrs.stream().map(c -> new NetworkPolicyPeerBuilder()
                            .withIpBlock(new IPBlockBuilder().withCidr(c).build()).build()).toList())
                    .build());
        }
        List<NetworkPolicyEgressRule> egress = new ArrayList<>();
        switch (spec.egress()) {
            case ALLOW_ALL -> {
                if (denied.isEmpty()) {
                    egress.add(new NetworkPolicyEgressRule()); // one empty rule: anywhere
                } else {
                    egress.add(new NetworkPolicyEgressRuleBuilder()
                            .withTo(block("0.0.0.0/0", denied), block("::/0", denied)).build());
                }
            }
            case DENY_ALL -> {
            }
            case CIDRS -> {
                egress.add(new NetworkPolicyEgressRuleBuilder()
                        .withTo(spec.egressCidrs().stream().map(c -> block(c, denied)).toList())
                        .build());
                if (spec.allowDns()) {
                    egress.add(new NetworkPolicyEgressRuleBuilder()
                            .addNewTo().withNewNamespaceSelector()
                            .addToMatchLabels("kubernetes.io/metadata.name", "kube-system").endNamespaceSelector().endTo()
                            .withPorts(new NetworkPolicyPortBuilder().withProtocol("UDP").withPort(new IntOrString(53)).build(),
                                    new NetworkPolicyPortBuilder().withProtocol("TCP").withPort(new IntOrString(53)).build())
                            .build());
                }
            }
        }
        return new NetworkPolicyBuilder()
                .withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels(request)).endMetadata()
                .withNewSpec()
                .withNewPodSelector().withMatchLabels(selector(request.workspaceId())).endPodSelector()
                .withPolicyTypes("Ingress", "Egress")
                .withIngress(ingress)
                .withEgress(egress)
                .endSpec()
                .build();
    }

    /** An ipBlock of {@code cidr} with the denied ranges that lie inside it excepted. */
    private static NetworkPolicyPeer block(String cidr, List<IpRange> denied) {
        IpRange range = IpRange.parse(cidr);
        List<String> except = denied.stream().filter(d -> range.contains(d) && !d.equals(range)).map(IpRange::toString)
                .toList();
        return new NetworkPolicyPeerBuilder().withIpBlock(new IPBlockBuilder().withCidr(cidr)
                .withExcept(except.isEmpty() ? null : except).build()).build();
    }

    static StatefulSet statefulSet(String namespace, String name, KubernetesSpec spec, ProvisionRequest request,
                                   int replicas) {
        Map<String, String> labels = labels(request);
        Map<String, Quantity> limits = new TreeMap<>(spec.limits());
        if (spec.gpu() > 0) {
            limits.put(KubernetesSpec.GPU_RESOURCE, new Quantity(Integer.toString(spec.gpu())));
        }
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", ENTRYPOINT, "atelier-entrypoint"));
        if (spec.command().isEmpty()) {
            command.addAll(IDLE);
        } else {
            command.addAll(spec.command());
            command.addAll(spec.args());
        }
        Map<String, String> annotations = new LinkedHashMap<>();
        if (request.owner() != null) {
            annotations.put(OWNER_ANNOTATION, request.owner());
        }
        return new StatefulSetBuilder()
                .withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels)
                .withAnnotations(annotations).endMetadata()
                .withNewSpec()
                .withReplicas(replicas)
                .withServiceName(name)
                .withPodManagementPolicy("Parallel")
                .withNewSelector().withMatchLabels(selector(request.workspaceId())).endSelector()
                .withNewTemplate()
                .withNewMetadata().withLabels(labels).withAnnotations(annotations).endMetadata()
                .withNewSpec()
                .withServiceAccountName(spec.serviceAccount())
                // Never a token for the Kubernetes API inside a workspace: the agent token is its only credential.
                // A template's account still gives the pod its identity (image pull secrets, cloud workload identity).
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withNodeSelector(spec.nodeSelector().isEmpty() ? null : spec.nodeSelector())
                .withTolerations(tolerations(spec.tolerations()))
                .withImagePullSecrets(spec.imagePullSecrets().stream().map(LocalObjectReference::new).toList())
                .addNewVolume().withName("home").withNewPersistentVolumeClaim().withClaimName(claimName(name))
                .endPersistentVolumeClaim().endVolume()
                .addNewVolume().withName("atelier-agent").withNewSecret().withSecretName(name).withDefaultMode(0444)
                .endSecret().endVolume()
                .withContainers(new ContainerBuilder()
                        .withName(CONTAINER)
                        .withImage(spec.image())
                        .withCommand(command)
                        .withWorkingDir(spec.homePath())
                        .withEnv(env(spec, request))
                        .withNewResources()
                        .withRequests(spec.requests().isEmpty() ? null : new TreeMap<>(spec.requests()))
                        .withLimits(limits.isEmpty() ? null : limits)
                        .endResources()
                        .addNewVolumeMount().withName("home").withMountPath(spec.homePath()).endVolumeMount()
                        .addNewVolumeMount().withName("atelier-agent").withMountPath(KubernetesSpec.AGENT_DIR)
                        .withReadOnly(true).endVolumeMount()
                        .build())
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    private static List<EnvVar> env(KubernetesSpec spec, ProvisionRequest request) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", spec.homePath());
        env.putAll(request.workspaceEnvironment());
        env.putAll(spec.env());
        return env.entrySet().stream().map(e -> new EnvVarBuilder().withName(e.getKey()).withValue(e.getValue()).build())
                .toList();
    }

    private static List<Toleration> tolerations(List<Map<String, Object>> tolerations) {
        return tolerations.stream().map(t -> new TolerationBuilder()
                .withKey(t.get("key") == null ? null : String.valueOf(t.get("key")))
                .withOperator(t.get("operator") == null ? null : String.valueOf(t.get("operator")))
                .withValue(t.get("value") == null ? null : String.valueOf(t.get("value")))
                .withEffect(t.get("effect") == null ? null : String.valueOf(t.get("effect")))
                .withTolerationSeconds(t.get("tolerationSeconds") == null ? null
                        : KubernetesSpec.integer(t.get("tolerationSeconds")))
                .build()).toList();
    }


    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
