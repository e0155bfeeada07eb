package dev.atelier.providers.docker;

import dev.atelier.provider.SpecEnvironment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A docker template spec, read from the template's JSON. {@link #parse} collects every problem with the key named,
 * so that publishing a template reports all of them at once; provisioning parses the same way and refuses a spec
 * with problems (it can only happen for templates published before a rule existed).
 */
record DockerSpec(ContainerSpec main, String home, List<PortSpec> ports, SshSpec ssh, String network,
                  List<ContainerSpec> sidecars) {

    static final List<String> KEYS = List.of("image", "command", "env", "cpus", "memoryMb", "pidsLimit", "home",
            "volumes", "ports", "ssh", "network", "sidecars");
    static final List<String> SIDECAR_KEYS = List.of("name", "image", "command", "env", "cpus", "memoryMb",
            "pidsLimit", "volumes");
    static final String DEFAULT_HOME = "/workspace";
    static final String HOME_VOLUME = "home";

    private static final Pattern IMAGE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}");
    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._@+/-]{0,254}");
    private static final Pattern VOLUME_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
    private static final Pattern SIDECAR_NAME = Pattern.compile("[a-z][a-z0-9-]{0,30}");
    private static final Pattern NETWORK = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

    /** One container: the workspace's main container or a sidecar. */
    record ContainerSpec(String name, String image, List<String> command, Map<String, String> env, Double cpus,
                         Long memoryMb, Long pidsLimit, List<VolumeSpec> volumes) {
    }

    /** A named volume of the workspace, mounted at {@code mountPath}; it lives until the workspace is deleted. */
    record VolumeSpec(String name, String mountPath, boolean readOnly) {
    }

    /** A container port published on the engine's configured host address ({@code hostPort} 0: any free port). */
    record PortSpec(int containerPort, int hostPort, String protocol) {
    }

    /** The image runs sshd on {@code port}; users log in as {@code user}. */
    record SshSpec(int port, String user) {
    }

    /** The result of reading a spec: the spec when there are no problems. */
    record Parsed(DockerSpec spec, List<String> problems) {
    }

    /** All published ports, with the SSH port added when the template did not list it. */
    List<PortSpec> publishedPorts() {
        List<PortSpec> all = new ArrayList<>(ports);
        if (ssh != null && all.stream().noneMatch(p -> p.containerPort() == ssh.port() && p.protocol().equals("tcp"))) {
            all.add(new PortSpec(ssh.port(), 0, "tcp"));
        }
        return all;
    }

    boolean noNetwork() {
        return "none".equals(network);
    }

    static Parsed parse(Map<String, Object> spec) {
        List<String> problems = new ArrayList<>();
        spec.keySet().stream().filter(k -> !KEYS.contains(k)).sorted().forEach(k -> problems.add("unknown key '" + k
                + "' for provider docker (known: " + String.join(", ", KEYS) + ")"));
        ContainerSpec main = container("", null, spec, problems);

        String home = DEFAULT_HOME;
        Object homeValue = spec.get("home");
        if (homeValue != null) {
            if (!(homeValue instanceof String h) || !validPath(h)) {
                problems.add("home must be an absolute path (letters, digits, '._@+-/', no '..', not '/') where the "
                        + "workspace's home volume is mounted, such as /home/dev");
            } else {
                home = h;
            }
        }
        if (main.volumes().stream().anyMatch(v -> v.name().equals(HOME_VOLUME))) {
            problems.add("volumes: the name 'home' is reserved for the workspace home volume (see 'home')");
        }
        String homePath = home;
        if (main.volumes().stream().anyMatch(v -> v.mountPath().equals(homePath))) {
            problems.add("volumes: a volume is mounted at " + home + ", where the home volume is mounted");
        }

        List<PortSpec> ports = ports(spec.get("ports"), problems);
        SshSpec ssh = ssh(spec.get("ssh"), problems);

        String network = null;
        Object networkValue = spec.get("network");
        if (networkValue != null) {
            if (!(networkValue instanceof String n) || !NETWORK.matcher(n).matches()) {
                problems.add("network must be 'none' or the name of an existing Docker network to connect the main "
                        + "container to (letters, digits, '_.-')");
            } else if (n.equals("host")) {
                problems.add("network: 'host' would share the Docker host's network, loopback services included; "
                        + "name a network of its own");
            } else {
                network = n;
            }
        }

        List<ContainerSpec> sidecars = new ArrayList<>();
        Object sidecarValue = spec.get("sidecars");
        if (sidecarValue != null) {
            if (!(sidecarValue instanceof List<?> list)) {
                problems.add("sidecars must be a list of containers, each with at least 'name' and 'image'");
            } else {
                Set<String> names = new HashSet<>();
                for (int i = 0; i < list.size(); i++) {
                    String at = "sidecars[" + i + "]";
                    if (!(list.get(i) instanceof Map<?, ?> raw)) {
                        problems.add(at + " must be an object with 'name' and 'image'");
                        continue;
                    }
                    Map<String, Object> sidecar = stringKeys(raw);
                    sidecar.keySet().stream().filter(k -> !SIDECAR_KEYS.contains(k)).sorted().forEach(k -> problems.add(
                            "unknown key '" + k + "' in " + at + " (known: " + String.join(", ", SIDECAR_KEYS) + ")"));
                    Object name = sidecar.get("name");
                    if (!(name instanceof String n) || !SIDECAR_NAME.matcher(n).matches()) {
                        problems.add(at + ".name must be a lower-case name like 'db' (a-z, 0-9, '-', up to 31 "
                                + "characters); the main container reaches the sidecar under this host name");
                        continue;
                    }
                    if (n.equals("workspace") || !names.add(n)) {
                        problems.add(at + ".name '" + n + "' is used twice or reserved ('workspace' is the main "
                                + "container's host name)");
                    }
                    sidecars.add(container(at + ".", n, sidecar, problems));
                }
            }
        }
        if ("none".equals(network) && (!sidecars.isEmpty() || !ports.isEmpty() || ssh != null)) {
            problems.add("network 'none' leaves the workspace without any network: it cannot have sidecars, ports "
                    + "or ssh");
        }
        DockerSpec parsed = new DockerSpec(main, home, ports, ssh, network, List.copyOf(sidecars));
        return new Parsed(problems.isEmpty() ? parsed : null, List.copyOf(problems));
    }

    private static ContainerSpec container(String at, String name, Map<String, Object> spec, List<String> problems) {
        String image = null;
        Object imageValue = spec.get("image");
        if (imageValue == null) {
            problems.add(at + "image is required (an image reference such as debian:12 or registry.example/dev:1)");
        } else if (!(imageValue instanceof String i) || !IMAGE.matcher(i).matches()) {
            problems.add(at + "image must be an image reference such as debian:12 or registry.example/dev:1");
        } else {
            image = i;
        }
        List<String> command = null;
        Object commandValue = spec.get("command");
        if (commandValue != null) {
            if (!(commandValue instanceof List<?> list) || list.isEmpty() || list.size() > 256
                    || !list.stream().allMatch(a -> a instanceof String s && s.indexOf('\0') < 0)) {
                problems.add(at + "command must be a non-empty list of strings, such as [\"sleep\", \"infinity\"] "
                        + "(it replaces the image's ENTRYPOINT and CMD)");
            } else {
                command = list.stream().map(String.class::cast).toList();
            }
        }
        Map<String, String> env = SpecEnvironment.check(spec.get("env"), at, "", Set.of(), problems);
        Double cpus = null;
        Object cpusValue = spec.get("cpus");
        if (cpusValue != null) {
            if (!(cpusValue instanceof Number n) || n.doubleValue() < 0.01 || n.doubleValue() > 512) {
                problems.add(at + "cpus must be a number of CPUs between 0.01 and 512, such as 2 or 0.5");
            } else {
                cpus = n.doubleValue();
            }
        }
        Long memoryMb = wholeNumber(at + "memoryMb", spec.get("memoryMb"), 6, 4L * 1024 * 1024,
                "megabytes of memory (at least 6)", problems);
        Long pidsLimit = wholeNumber(at + "pidsLimit", spec.get("pidsLimit"), 8, 4_194_304,
                "the maximum number of processes (at least 8)", problems);
        List<VolumeSpec> volumes = volumes(at, spec.get("volumes"), problems);
        return new ContainerSpec(name, image, command, Map.copyOf(env), cpus, memoryMb, pidsLimit, volumes);
    }

    private static List<VolumeSpec> volumes(String at, Object value, List<String> problems) {
        if (value == null) {
            return List.of();
        }
        String hint = at + "volumes must be a list of {\"name\": \"data\", \"mountPath\": \"/data\", \"readOnly\": false}"
                + " (named volumes of the workspace; host paths cannot be mounted)";
        if (!(value instanceof List<?> list)) {
            problems.add(hint);
            return List.of();
        }
        List<VolumeSpec> volumes = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> paths = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String item = at + "volumes[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> raw)) {
                problems.add(hint);
                continue;
            }
            Map<String, Object> v = stringKeys(raw);
            v.keySet().stream().filter(k -> !List.of("name", "mountPath", "readOnly").contains(k)).sorted()
                    .forEach(k -> problems.add("unknown key '" + k + "' in " + item + " (known: name, mountPath, readOnly)"));
            Object name = v.get("name");
            Object path = v.get("mountPath");
            Object readOnly = v.get("readOnly");
            boolean ok = true;
            if (!(name instanceof String n) || !VOLUME_NAME.matcher(n).matches()) {
                problems.add(item + ".name must be a lower-case volume name (a-z, 0-9, '_.-')");
                ok = false;
            } else if (!names.add(n)) {
                problems.add(item + ".name '" + n + "' is used twice");
                ok = false;
            }
            if (!(path instanceof String p) || !validPath(p)) {
                problems.add(item + ".mountPath must be an absolute path inside the container, such as /data");
                ok = false;
            } else if (!paths.add(p)) {
                problems.add(item + ".mountPath " + p + " is used twice");
                ok = false;
            }
            if (readOnly != null && !(readOnly instanceof Boolean)) {
                problems.add(item + ".readOnly must be true or false");
                ok = false;
            }
            if (ok) {
                volumes.add(new VolumeSpec((String) name, (String) path, Boolean.TRUE.equals(readOnly)));
            }
        }
        return List.copyOf(volumes);
    }

    private static List<PortSpec> ports(Object value, List<String> problems) {
        if (value == null) {
            return List.of();
        }
        String hint = "ports must be a list of container ports (8080) or of {\"containerPort\": 8080, \"hostPort\": 0, "
                + "\"protocol\": \"tcp\"} (hostPort 0 or absent: any free port)";
        if (!(value instanceof List<?> list)) {
            problems.add(hint);
            return List.of();
        }
        List<PortSpec> ports = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String item = "ports[" + i + "]";
            Object entry = list.get(i);
            Integer containerPort;
            int hostPort = 0;
            String protocol = "tcp";
            if (entry instanceof Number) {
                containerPort = port(item, entry, 1, problems);
            } else if (entry instanceof Map<?, ?> raw) {
                Map<String, Object> p = stringKeys(raw);
                p.keySet().stream().filter(k -> !List.of("containerPort", "hostPort", "protocol").contains(k)).sorted()
                        .forEach(k -> problems.add("unknown key '" + k + "' in " + item
                                + " (known: containerPort, hostPort, protocol)"));
                containerPort = port(item + ".containerPort", p.get("containerPort"), 1, problems);
                if (p.get("hostPort") != null) {
                    Integer h = port(item + ".hostPort", p.get("hostPort"), 0, problems);
                    hostPort = h == null ? 0 : h;
                }
                Object proto = p.get("protocol");
                if (proto != null && !"tcp".equals(proto) && !"udp".equals(proto)) {
                    problems.add(item + ".protocol must be tcp or udp");
                } else if (proto != null) {
                    protocol = (String) proto;
                }
            } else {
                problems.add(hint);
                continue;
            }
            if (containerPort != null) {
                if (!seen.add(containerPort + "/" + protocol)) {
                    problems.add(item + ": port " + containerPort + "/" + protocol + " is listed twice");
                }
                ports.add(new PortSpec(containerPort, hostPort, protocol));
            }
        }
        return List.copyOf(ports);
    }

    private static SshSpec ssh(Object value, List<String> problems) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map<?, ?> raw)) {
            problems.add("ssh must be an object {\"port\": 22, \"user\": \"root\"}: the image runs sshd on that "
                    + "container port (it is published) and users log in as that user");
            return null;
        }
        Map<String, Object> ssh = stringKeys(raw);
        ssh.keySet().stream().filter(k -> !List.of("port", "user").contains(k)).sorted()
                .forEach(k -> problems.add("unknown key '" + k + "' in ssh (known: port, user)"));
        Integer port = ssh.get("port") == null ? Integer.valueOf(22) : port("ssh.port", ssh.get("port"), 1, problems);
        Object user = ssh.getOrDefault("user", "root");
        if (!(user instanceof String u) || !USER.matcher(u).matches()) {
            problems.add("ssh.user must be a Unix user name such as root or dev");
            return null;
        }
        return port == null ? null : new SshSpec(port, u);
    }

    private static Integer port(String key, Object value, int min, List<String> problems) {
        Long n = wholeNumber(key, value, min, 65535, "a port number", problems);
        if (value == null) {
            problems.add(key + " is required (a port number)");
        }
        return n == null ? null : n.intValue();
    }

    private static Long wholeNumber(String key, Object value, long min, long max, String what, List<String> problems) {
        if (value == null) {
            return null;
        }
        if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                && n.doubleValue() >= min && n.doubleValue() <= max) {
            return n.longValue();
        }
        problems.add(key + " must be a whole number between " + min + " and " + max + ": " + what);
        return null;
    }

    private static boolean validPath(String path) {
        return PATH.matcher(path).matches() && !path.equals("/") && !path.contains("//")
                && List.of(path.split("/")).stream().noneMatch(s -> s.equals("..") || s.equals("."));
    }

    private static Map<String, Object> stringKeys(Map<?, ?> raw) {
        Map<String, Object> out = new LinkedHashMap<>();
        raw.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }
}
