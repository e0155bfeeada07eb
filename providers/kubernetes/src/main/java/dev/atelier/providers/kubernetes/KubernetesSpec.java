package dev.atelier.providers.kubernetes;

import dev.atelier.provider.SpecEnvironment;
import io.fabric8.kubernetes.api.model.Quantity;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A template's {@code spec} for the {@code kubernetes} provider: checked key by key when a template version is
 * published ({@link #validate}), read into typed values when a workspace is provisioned ({@link #parse}).
 */
record KubernetesSpec(String namespace, String image, List<String> command, List<String> args,
                      Map<String, String> env, Map<String, Quantity> requests, Map<String, Quantity> limits, int gpu,
                      int storageGb, String storageClass, String homePath, Map<String, String> nodeSelector,
                      List<Map<String, Object>> tolerations, String serviceAccount, List<String> imagePullSecrets,
                      Egress egress, List<String> egressCidrs, boolean allowDns) {

    static final String GPU_RESOURCE = "nvidia.com/gpu";
    static final int DEFAULT_STORAGE_GB = 10;
    static final String DEFAULT_HOME = "/workspace";
    static final String AGENT_DIR = "/var/run/atelier";

    static final Set<String> KEYS = new TreeSet<>(Set.of("namespace", "image", "command", "args", "env", "resources",
            "storageGb", "storageClass", "homePath", "nodeSelector", "tolerations", "serviceAccount",
            "imagePullSecrets", "networkPolicy"));
    private static final Set<String> RESOURCE_KEYS = new TreeSet<>(Set.of("requests", "limits", "gpu"));
    private static final Set<String> QUANTITY_KEYS = new TreeSet<>(Set.of("cpu", "memory", "ephemeral-storage"));
    private static final Set<String> NETWORK_KEYS = new TreeSet<>(Set.of("egress", "allowDns"));
    private static final Set<String> TOLERATION_KEYS = new TreeSet<>(Set.of("key", "operator", "value", "effect",
            "tolerationSeconds"));
    private static final Set<String> EFFECTS = Set.of("NoSchedule", "PreferNoSchedule", "NoExecute");

    static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    static final Pattern LABEL_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
    private static final Pattern IMAGE = Pattern.compile("[^\\s]{1,1024}");

    /** Egress of the workspace's NetworkPolicy. */
    enum Egress { ALLOW_ALL, DENY_ALL, CIDRS }

    static List<String> validate(Map<String, Object> spec) {
        List<String> problems = new ArrayList<>();
        spec.keySet().stream().filter(k -> !KEYS.contains(k)).sorted().forEach(k -> problems.add(
                "unknown key '" + k + "' for provider kubernetes (known: " + String.join(", ", KEYS) + ")"));

        Object namespace = spec.get("namespace");
        if (namespace != null && !(namespace instanceof String s && isDnsLabel(s))) {
            problems.add("namespace must be a Kubernetes namespace name (lower-case letters, digits and '-', at most "
                    + "63 characters, starting and ending with a letter or digit), not '" + namespace + "'");
        }

        Object image = spec.get("image");
        if (image == null) {
            problems.add("image is required (a container image reference such as 'ubuntu:24.04')");
        } else if (!(image instanceof String s) || !IMAGE.matcher(s).matches()) {
            problems.add("image must be a container image reference without spaces");
        }

        List<String> command = stringList(spec, "command", problems);
        stringList(spec, "args", problems);
        if (spec.get("args") != null && spec.get("command") == null) {
            problems.add("args needs command: the workspace agent's entrypoint wrapper replaces the image's entrypoint,"
                    + " so give the whole command line (command, then args)");
        }
        if (command != null && command.isEmpty()) {
            problems.add("command must not be empty (leave it out to keep the workspace idling)");
        }

        SpecEnvironment.check(spec.get("env"), "", " ([A-Za-z_][A-Za-z0-9_]*)", Set.of(), problems);

        validateResources(spec.get("resources"), problems);

        Object storage = spec.get("storageGb");
        if (storage != null && (integer(storage) == null || integer(storage) < 1 || integer(storage) > 65536)) {
            problems.add("storageGb must be a whole number of GiB between 1 and 65536, not '" + storage + "'");
        }
        Object storageClass = spec.get("storageClass");
        if (storageClass != null && !(storageClass instanceof String s && isDnsSubdomain(s))) {
            problems.add("storageClass must be a StorageClass name (DNS subdomain), not '" + storageClass + "'");
        }
        Object home = spec.get("homePath");
        if (home != null && !(home instanceof String s && s.startsWith("/") && s.length() > 1 && s.length() <= 255
                && !s.contains("..") && !s.contains(":") && !s.startsWith(AGENT_DIR))) {
            problems.add("homePath must be an absolute directory path other than / (and not under " + AGENT_DIR
                    + "), not '" + home + "'");
        }

        Object nodeSelector = spec.get("nodeSelector");
        if (nodeSelector != null) {
            if (!(nodeSelector instanceof Map<?, ?> map)) {
                problems.add("nodeSelector must be a map of node label keys to values");
            } else {
                map.forEach((k, v) -> {
                    if (!(k instanceof String key) || !isLabelKey(key)) {
                        problems.add("nodeSelector key '" + k + "' is not a valid label key ([prefix/]name, name at most"
                                + " 63 characters of letters, digits, '-', '_', '.')");
                    } else if (!(v instanceof String value) || !isLabelValue(value)) {
                        problems.add("nodeSelector value of '" + k + "' is not a valid label value (at most 63 "
                                + "characters of letters, digits, '-', '_', '.'), not '" + v + "'");
                    }
                });
            }
        }

        validateTolerations(spec.get("tolerations"), problems);

        Object serviceAccount = spec.get("serviceAccount");
        if (serviceAccount != null && !(serviceAccount instanceof String s && isDnsSubdomain(s))) {
            problems.add("serviceAccount must be a ServiceAccount name (DNS subdomain), not '" + serviceAccount + "'");
        }
        List<String> pullSecrets = stringList(spec, "imagePullSecrets", problems);
        if (pullSecrets != null) {
            pullSecrets.stream().filter(s -> !isDnsSubdomain(s)).forEach(s -> problems.add(
                    "imagePullSecrets entry '" + s + "' is not a Secret name (DNS subdomain)"));
        }

        validateNetworkPolicy(spec.get("networkPolicy"), problems);
        return problems;
    }

    private static void validateResources(Object resources, List<String> problems) {
        if (resources == null) {
            return;
        }
        if (!(resources instanceof Map<?, ?> map)) {
            problems.add("resources must be a map with requests, limits and gpu");
            return;
        }
        map.keySet().stream().map(String::valueOf).filter(k -> !RESOURCE_KEYS.contains(k)).sorted().forEach(k ->
                problems.add("unknown key 'resources." + k + "' (known: " + String.join(", ", RESOURCE_KEYS) + ")"));
        Map<String, Quantity> requests = quantities(map.get("requests"), "resources.requests", problems);
        Map<String, Quantity> limits = quantities(map.get("limits"), "resources.limits", problems);
        requests.forEach((name, request) -> {
            Quantity limit = limits.get(name);
            if (limit != null && request.getNumericalAmount().compareTo(limit.getNumericalAmount()) > 0) {
                problems.add("resources.requests." + name + " (" + request + ") is more than resources.limits." + name
                        + " (" + limit + ")");
            }
        });
        Object gpu = map.get("gpu");
        if (gpu != null && (integer(gpu) == null || integer(gpu) < 0 || integer(gpu) > 64)) {
            problems.add("resources.gpu must be a whole number of GPUs (" + GPU_RESOURCE + ") between 0 and 64, not '"
                    + gpu + "'");
        }
    }

    private static Map<String, Quantity> quantities(Object value, String path, List<String> problems) {
        Map<String, Quantity> out = new LinkedHashMap<>();
        if (value == null) {
            return out;
        }
        if (!(value instanceof Map<?, ?> map)) {
            problems.add(path + " must be a map of resource names (" + String.join(", ", QUANTITY_KEYS)
                    + ") to quantities such as '500m' or '2Gi'");
            return out;
        }
        map.forEach((k, v) -> {
            String name = String.valueOf(k);
            if (!QUANTITY_KEYS.contains(name)) {
                problems.add("unknown key '" + path + "." + name + "' (known: " + String.join(", ", QUANTITY_KEYS)
                        + "; GPUs go in resources.gpu)");
                return;
            }
            Quantity q = quantity(v);
            if (q == null) {
                problems.add(path + "." + name + " is not a Kubernetes quantity: '" + v
                        + "' (examples: 500m, 2, 1.5, 512Mi, 4Gi)");
            } else {
                out.put(name, q);
            }
        });
        return out;
    }

    /** A non-negative quantity parsed (and its unit checked) by fabric8's {@link Quantity}, or null. */
    static Quantity quantity(Object value) {
        if (!(value instanceof String) && !(value instanceof Number)) {
            return null;
        }
        String text = value instanceof BigDecimal d ? d.toPlainString() : String.valueOf(value);
        try {
            Quantity q = Quantity.parse(text);
            return q.getNumericalAmount().signum() < 0 ? null : q;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static void validateTolerations(Object tolerations, List<String> problems) {
        if (tolerations == null) {
            return;
        }
        if (!(tolerations instanceof List<?> list)) {
            problems.add("tolerations must be a list of {key, operator, value, effect, tolerationSeconds}");
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            String at = "tolerations[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> t)) {
                problems.add(at + " must be a map with key, operator, value, effect, tolerationSeconds");
                continue;
            }
            t.keySet().stream().map(String::valueOf).filter(k -> !TOLERATION_KEYS.contains(k)).sorted().forEach(k ->
                    problems.add("unknown key '" + at + "." + k + "' (known: " + String.join(", ", TOLERATION_KEYS) + ")"));
            Object key = t.get("key");
            Object operator = t.get("operator") == null ? "Equal" : t.get("operator");
            Object value = t.get("value");
            Object effect = t.get("effect");
            if (key != null && !(key instanceof String k && (k.isEmpty() || isLabelKey(k)))) {
                problems.add(at + ".key is not a valid taint key: '" + key + "'");
            }
            if (!"Equal".equals(operator) && !"Exists".equals(operator)) {
                problems.add(at + ".operator must be Equal or Exists, not '" + operator + "'");
            }
            if ("Exists".equals(operator) && value != null && !"".equals(value)) {
                problems.add(at + ".value must be empty when operator is Exists");
            }
            if ((key == null || "".equals(key)) && !"Exists".equals(operator)) {
                problems.add(at + " without a key needs operator Exists (it then tolerates every taint)");
            }
            if (value != null && !(value instanceof String v && isLabelValue(v))) {
                problems.add(at + ".value is not a valid taint value: '" + value + "'");
            }
            if (effect != null && !EFFECTS.contains(String.valueOf(effect))) {
                problems.add(at + ".effect must be one of NoSchedule, PreferNoSchedule, NoExecute, not '" + effect + "'");
            }
            Object seconds = t.get("tolerationSeconds");
            if (seconds != null && (integer(seconds) == null || integer(seconds) < 0)) {
                problems.add(at + ".tolerationSeconds must be a whole number of seconds");
            } else if (seconds != null && !"NoExecute".equals(effect)) {
                problems.add(at + ".tolerationSeconds applies only to effect NoExecute");
            }
        }
    }

    private static void validateNetworkPolicy(Object policy, List<String> problems) {
        if (policy == null) {
            return;
        }
        if (!(policy instanceof Map<?, ?> map)) {
            problems.add("networkPolicy must be a map with egress and allowDns");
            return;
        }
        map.keySet().stream().map(String::valueOf).filter(k -> !NETWORK_KEYS.contains(k)).sorted().forEach(k ->
                problems.add("unknown key 'networkPolicy." + k + "' (known: " + String.join(", ", NETWORK_KEYS) + ")"));
        Object egress = map.get("egress");
        if (egress instanceof List<?> cidrs) {
            if (cidrs.isEmpty()) {
                problems.add("networkPolicy.egress is an empty list: write 'deny-all' to allow no egress at all");
            }
            for (Object cidr : cidrs) {
                if (!(cidr instanceof String c) || !Cidrs.valid(c)) {
                    problems.add("networkPolicy.egress entry '" + cidr + "' is not a CIDR such as 10.0.0.0/8 or "
                            + "fd00::/8");
                }
            }
        } else if (egress != null && !"allow-all".equals(egress) && !"deny-all".equals(egress)) {
            problems.add("networkPolicy.egress must be 'allow-all', 'deny-all' or a list of CIDRs, not '" + egress + "'");
        }
        Object dns = map.get("allowDns");
        if (dns != null && !(dns instanceof Boolean)) {
            problems.add("networkPolicy.allowDns must be true or false");
        }
    }

    /** Reads a spec that {@link #validate} accepted. */
    @SuppressWarnings("unchecked")
    static KubernetesSpec parse(Map<String, Object> spec) {
        List<String> problems = validate(spec);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid kubernetes spec: " + String.join("; ", problems));
        }
        Map<String, Object> resources = (Map<String, Object>) spec.getOrDefault("resources", Map.of());
        Map<String, Object> network = (Map<String, Object>) spec.getOrDefault("networkPolicy", Map.of());
        Object egressValue = network.getOrDefault("egress", "allow-all");
        Egress egress = egressValue instanceof List<?> ? Egress.CIDRS
                : "deny-all".equals(egressValue) ? Egress.DENY_ALL : Egress.ALLOW_ALL;
        List<String> egressCidrs = egressValue instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
        Map<String, String> env = new LinkedHashMap<>();
        ((Map<String, Object>) spec.getOrDefault("env", Map.of())).forEach((k, v) -> env.put(k, String.valueOf(v)));
        Map<String, String> nodeSelector = new LinkedHashMap<>();
        ((Map<String, Object>) spec.getOrDefault("nodeSelector", Map.of()))
                .forEach((k, v) -> nodeSelector.put(k, String.valueOf(v)));
        return new KubernetesSpec(
                (String) spec.get("namespace"),
                (String) spec.get("image"),
                strings(spec.get("command")),
                strings(spec.get("args")),
                env,
                quantities(resources.get("requests"), "", new ArrayList<>()),
                quantities(resources.get("limits"), "", new ArrayList<>()),
                resources.get("gpu") == null ? 0 : integer(resources.get("gpu")).intValue(),
                spec.get("storageGb") == null ? DEFAULT_STORAGE_GB : integer(spec.get("storageGb")).intValue(),
                (String) spec.get("storageClass"),
                (String) spec.getOrDefault("homePath", DEFAULT_HOME),
                nodeSelector,
                (List<Map<String, Object>>) spec.getOrDefault("tolerations", List.of()),
                (String) spec.get("serviceAccount"),
                strings(spec.get("imagePullSecrets")),
                egress,
                egressCidrs,
                // With an egress allow-list, name resolution still works unless switched off.
                !Boolean.FALSE.equals(network.get("allowDns")));
    }

    private static List<String> stringList(Map<String, Object> spec, String key, List<String> problems) {
        Object value = spec.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof List<?> list) || list.stream().anyMatch(v -> !(v instanceof String))) {
            problems.add(key + " must be a list of strings");
            return null;
        }
        return list.stream().map(String::valueOf).toList();
    }

    private static List<String> strings(Object value) {
        return value instanceof List<?> list ? list.stream().map(String::valueOf).toList() : List.of();
    }

    /** A whole number (JSON integer, or a decimal without fraction), or null. */
    static Long integer(Object value) {
        if (value instanceof Integer || value instanceof Long || value instanceof Short) {
            return ((Number) value).longValue();
        }
        if (value instanceof java.math.BigInteger b && b.bitLength() < 63) {
            return b.longValue();
        }
        if (value instanceof Number n) {
            try {
                return new BigDecimal(n.toString()).longValueExact();
            } catch (ArithmeticException | NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    static boolean isDnsLabel(String s) {
        return s.length() <= 63 && DNS_LABEL.matcher(s).matches();
    }

    static boolean isDnsSubdomain(String s) {
        return s.length() <= 253 && DNS_SUBDOMAIN.matcher(s).matches();
    }

    static boolean isLabelValue(String s) {
        return s.isEmpty() || (s.length() <= 63 && LABEL_NAME.matcher(s).matches());
    }

    static boolean isLabelKey(String s) {
        int slash = s.indexOf('/');
        String name = slash < 0 ? s : s.substring(slash + 1);
        if (slash >= 0 && !isDnsSubdomain(s.substring(0, slash))) {
            return false;
        }
        return !name.isEmpty() && name.length() <= 63 && LABEL_NAME.matcher(name).matches();
    }
}
