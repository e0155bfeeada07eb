package dev.atelier.providers.kubernetes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What a template author is told when a kubernetes spec is published. */
class KubernetesSpecTest {

    @Test
    void aFullSpecIsValidAndReadBack() {
        Map<String, Object> spec = KubernetesWorkspaceProviderTest.gpuSpec();
        spec.put("networkPolicy", Map.of("egress", List.of("10.0.0.0/8"), "allowDns", false));
        assertThat(KubernetesSpec.validate(spec)).isEmpty();

        KubernetesSpec parsed = KubernetesSpec.parse(spec);
        assertThat(parsed.namespace()).isEqualTo("ml-team");
        assertThat(parsed.gpu()).isEqualTo(2);
        assertThat(parsed.storageGb()).isEqualTo(200);
        assertThat(parsed.limits().get("cpu").toString()).isEqualTo("8");
        assertThat(parsed.egress()).isEqualTo(KubernetesSpec.Egress.CIDRS);
        assertThat(parsed.egressCidrs()).containsExactly("10.0.0.0/8");
        assertThat(parsed.allowDns()).isFalse();
    }

    @Test
    @SuppressWarnings("unchecked")
    void theExampleTemplatesOfTheDocsAreValid() throws Exception {
        String docs = java.nio.file.Files.readString(java.nio.file.Path.of("docs/providers/kubernetes.md"));
        var examples = java.util.regex.Pattern.compile("```json\\n(.*?)```", java.util.regex.Pattern.DOTALL)
                .matcher(docs).results().map(m -> m.group(1)).toList();
        assertThat(examples).hasSize(2);
        for (String example : examples) {
            Map<String, Object> template = new com.fasterxml.jackson.databind.ObjectMapper().readValue(example, Map.class);
            assertThat(template.get("provider")).isEqualTo("kubernetes");
            assertThat(KubernetesSpec.validate((Map<String, Object>) template.get("spec"))).as(example).isEmpty();
        }
    }

    @Test
    void theSmallestSpecIsAnImage() {
        assertThat(KubernetesSpec.validate(Map.of("image", "ubuntu:24.04"))).isEmpty();
        KubernetesSpec parsed = KubernetesSpec.parse(Map.of("image", "ubuntu:24.04"));
        assertThat(parsed.storageGb()).isEqualTo(10);
        assertThat(parsed.homePath()).isEqualTo("/workspace");
        assertThat(parsed.egress()).isEqualTo(KubernetesSpec.Egress.ALLOW_ALL);
        assertThat(parsed.gpu()).isZero();
    }

    @Test
    void unknownKeysAreNamedWithTheKnownOnes() {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "replicas", 2))).containsExactly(
                "unknown key 'replicas' for provider kubernetes (known: args, command, env, homePath, image, "
                        + "imagePullSecrets, namespace, networkPolicy, nodeSelector, resources, serviceAccount, "
                        + "storageClass, storageGb, tolerations)");
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "resources", Map.of("limits", Map.of("nvidia.com/gpu", 1)))))
                .singleElement().asString().contains("'resources.limits.nvidia.com/gpu'").contains("resources.gpu");
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "networkPolicy", Map.of("ingress", "allow-all"))))
                .singleElement().asString().contains("'networkPolicy.ingress'").contains("known: allowDns, egress");
    }

    @Test
    void imageIsRequired() {
        assertThat(KubernetesSpec.validate(Map.of())).singleElement().asString().contains("image is required");
        assertThat(KubernetesSpec.validate(Map.of("image", "two words"))).singleElement().asString()
                .contains("image must be");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Upper", "with_underscore", "-dash", "dash-", "a.b", ""})
    void namespacesMustBeDnsLabels(String namespace) {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "namespace", namespace))).singleElement().asString()
                .startsWith("namespace must be a Kubernetes namespace name");
    }

    @Test
    void aNamespaceLongerThan63CharactersIsRefused() {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "namespace", "n".repeat(64)))).hasSize(1);
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "namespace", "n".repeat(63)))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2 cores", "1Gb", "abc", "-1", "10gi", "1.5.5", "Gi"})
    void quantitiesAreParsedAsKubernetesQuantities(String quantity) {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "resources", Map.of("requests", Map.of("memory", quantity)))))
                .singleElement().asString().isEqualTo("resources.requests.memory is not a Kubernetes quantity: '" + quantity
                        + "' (examples: 500m, 2, 1.5, 512Mi, 4Gi)");
    }

    @Test
    void numbersAndSuffixesAreQuantitiesAndRequestsMayNotExceedLimits() {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "resources", Map.of(
                "requests", Map.of("cpu", "500m", "memory", "1.5Gi", "ephemeral-storage", "10G"),
                "limits", Map.of("cpu", 2, "memory", new BigDecimal("2147483648")))))).isEmpty();
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "resources", Map.of(
                "requests", Map.of("memory", "4Gi"), "limits", Map.of("memory", "2Gi")))))
                .containsExactly("resources.requests.memory (4Gi) is more than resources.limits.memory (2Gi)");
    }

    @Test
    void gpusAreWholeNumbers() {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "resources", Map.of("gpu", 1)))).isEmpty();
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "resources", Map.of("gpu", 2.0)))).isEmpty();
        for (Object gpu : List.of(0.5, "1", -1, 65, true)) {
            assertThat(KubernetesSpec.validate(Map.of("image", "x", "resources", Map.of("gpu", gpu)))).as("gpu %s", gpu)
                    .singleElement().asString().startsWith("resources.gpu must be a whole number of GPUs (nvidia.com/gpu)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0", "10.0.0.0/33", "256.0.0.0/8", "10.0.0/8", "example.com/8", "fd00::/129",
            "fd00:::1/64", "1:2:3:4:5:6:7:8:9/64", "10.0.0.0/08", "/8", " 10.0.0.0/8"})
    void egressCidrsMustBeCidrs(String cidr) {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "networkPolicy", Map.of("egress", List.of(cidr)))))
                .singleElement().asString().contains("'" + cidr + "' is not a CIDR");
    }

    @Test
    void validCidrsAndEgressModes() {
        for (String cidr : List.of("0.0.0.0/0", "10.0.0.0/8", "192.168.1.17/32", "::/0", "fd00::/8",
                "2001:db8:0:0:0:0:0:1/128", "::ffff:10.0.0.0/104")) {
            assertThat(Cidrs.valid(cidr)).as(cidr).isTrue();
        }
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "networkPolicy", Map.of("egress", "deny-all")))).isEmpty();
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "networkPolicy", Map.of("egress", "allow-all")))).isEmpty();
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "networkPolicy", Map.of("egress", "none"))))
                .singleElement().asString().contains("'allow-all', 'deny-all' or a list of CIDRs");
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "networkPolicy", Map.of("egress", List.of()))))
                .singleElement().asString().contains("'deny-all'");
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "networkPolicy", Map.of("allowDns", "yes"))))
                .containsExactly("networkPolicy.allowDns must be true or false");
    }

    @Test
    void labelsOfTheNodeSelectorAreChecked() {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "nodeSelector", Map.of(
                "cloud.google.com/gke-accelerator", "nvidia-l4", "pool", "")))).isEmpty();
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "nodeSelector", Map.of("bad key!", "v"))))
                .singleElement().asString().startsWith("nodeSelector key 'bad key!' is not a valid label key");
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "nodeSelector", Map.of("pool", "has space"))))
                .singleElement().asString().startsWith("nodeSelector value of 'pool' is not a valid label value");
    }

    @Test
    void tolerationsAreChecked() {
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "tolerations", List.of(
                Map.of("key", "nvidia.com/gpu", "operator", "Exists", "effect", "NoSchedule"),
                Map.of("key", "dedicated", "value", "ml", "effect", "NoExecute", "tolerationSeconds", 300),
                Map.of("operator", "Exists"))))).isEmpty();
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "tolerations", List.of(
                Map.of("key", "k", "operator", "Maybe", "effect", "Sometimes", "colour", "red"),
                Map.of("key", "k", "operator", "Exists", "value", "v"),
                Map.of("value", "v"),
                Map.of("key", "k", "effect", "NoSchedule", "tolerationSeconds", 10)))))
                .containsExactlyInAnyOrder(
                        "unknown key 'tolerations[0].colour' (known: effect, key, operator, tolerationSeconds, value)",
                        "tolerations[0].operator must be Equal or Exists, not 'Maybe'",
                        "tolerations[0].effect must be one of NoSchedule, PreferNoSchedule, NoExecute, not 'Sometimes'",
                        "tolerations[1].value must be empty when operator is Exists",
                        "tolerations[2] without a key needs operator Exists (it then tolerates every taint)",
                        "tolerations[3].tolerationSeconds applies only to effect NoExecute");
    }

    @Test
    void envCommandStorageAndNamesAreChecked() {
        Map<String, Object> spec = new HashMap<>();
        spec.put("image", "x");
        spec.put("env", Map.of("ATELIER_AGENT_TOKEN", "mine", "1BAD", "v", "OK", 5));
        spec.put("args", List.of("--port", "22"));
        spec.put("storageGb", 0);
        spec.put("storageClass", "Fast_SSD");
        spec.put("serviceAccount", "Robot");
        spec.put("imagePullSecrets", List.of("ok-secret", "Not OK"));
        spec.put("homePath", "relative/path");
        assertThat(KubernetesSpec.validate(spec)).containsExactlyInAnyOrder(
                "env name 'ATELIER_AGENT_TOKEN' is reserved: ATELIER_* variables are set by the engine",
                "env name '1BAD' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
                "env value of 'OK' must be a string",
                "args needs command: the workspace agent's entrypoint wrapper replaces the image's entrypoint, so give"
                        + " the whole command line (command, then args)",
                "storageGb must be a whole number of GiB between 1 and 65536, not '0'",
                "storageClass must be a StorageClass name (DNS subdomain), not 'Fast_SSD'",
                "serviceAccount must be a ServiceAccount name (DNS subdomain), not 'Robot'",
                "imagePullSecrets entry 'Not OK' is not a Secret name (DNS subdomain)",
                "homePath must be an absolute directory path other than / (and not under /var/run/atelier), not "
                        + "'relative/path'");
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "command", List.of("sh", 1))))
                .containsExactly("command must be a list of strings");
        assertThat(KubernetesSpec.validate(Map.of("image", "x", "homePath", "/var/run/atelier/home"))).hasSize(1);
    }
}
