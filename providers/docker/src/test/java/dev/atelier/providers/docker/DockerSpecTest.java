package dev.atelier.providers.docker;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Template spec validation of the docker provider: every problem named with its key. */
class DockerSpecTest {

    @Test
    void aFullSpecIsValidAndReadAsWritten() {
        DockerSpec.Parsed parsed = DockerSpec.parse(spec(
                "image", "registry.example/dev:1.2",
                "command", List.of("sleep", "infinity"),
                "env", Map.of("EDITOR", "vim"),
                "cpus", 1.5, "memoryMb", 2048, "pidsLimit", 512,
                "home", "/home/dev",
                "volumes", List.of(Map.of("name", "cache", "mountPath", "/cache", "readOnly", false)),
                "ports", List.of(8080, Map.of("containerPort", 53, "protocol", "udp", "hostPort", 5353)),
                "ssh", Map.of("port", 2222, "user", "dev"),
                "sidecars", List.of(Map.of("name", "db", "image", "postgres:16", "memoryMb", 512,
                        "volumes", List.of(Map.of("name", "pgdata", "mountPath", "/var/lib/postgresql/data"))))));
        assertThat(parsed.problems()).isEmpty();
        DockerSpec spec = parsed.spec();
        assertThat(spec.main().memoryMb()).isEqualTo(2048);
        assertThat(spec.main().cpus()).isEqualTo(1.5);
        assertThat(spec.home()).isEqualTo("/home/dev");
        assertThat(spec.sidecars()).extracting(DockerSpec.ContainerSpec::name).containsExactly("db");
        assertThat(spec.publishedPorts()).containsExactly(new DockerSpec.PortSpec(8080, 0, "tcp"),
                new DockerSpec.PortSpec(53, 5353, "udp"), new DockerSpec.PortSpec(2222, 0, "tcp"));
    }

    @Test
    void eachProblemNamesItsKey() {
        List<String> problems = DockerSpec.parse(spec(
                "imag", "x",
                "command", "sleep infinity",
                "env", Map.of("ATELIER_X", "1", "bad name", "2"),
                "cpus", 0, "memoryMb", 1.5, "pidsLimit", -1,
                "home", "/home/../etc",
                "volumes", List.of(Map.of("name", "cache", "mountPath", "relative"), Map.of("name", "home", "mountPath", "/h")),
                "ports", List.of(70000),
                "sidecars", List.of(Map.of("name", "DB", "image", "postgres"), Map.of("image", "x", "nam", "y")))).problems();
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("unknown key 'imag' for provider docker (known: image,"))
                .anySatisfy(p -> assertThat(p).startsWith("image is required"))
                .anySatisfy(p -> assertThat(p).startsWith("command must be a non-empty list of strings"))
                .anySatisfy(p -> assertThat(p).contains("env name 'ATELIER_X' is reserved"))
                .anySatisfy(p -> assertThat(p).contains("env name 'bad name' is not a valid variable name"))
                .anySatisfy(p -> assertThat(p).startsWith("cpus must be"))
                .anySatisfy(p -> assertThat(p).startsWith("memoryMb must be a whole number"))
                .anySatisfy(p -> assertThat(p).startsWith("pidsLimit must be a whole number"))
                .anySatisfy(p -> assertThat(p).startsWith("home must be an absolute path"))
                .anySatisfy(p -> assertThat(p).startsWith("volumes[0].mountPath must be an absolute path"))
                .anySatisfy(p -> assertThat(p).contains("the name 'home' is reserved"))
                .anySatisfy(p -> assertThat(p).startsWith("ports[0] must be a whole number between 1 and 65535"))
                .anySatisfy(p -> assertThat(p).startsWith("sidecars[0].name must be a lower-case name"))
                .anySatisfy(p -> assertThat(p).startsWith("unknown key 'nam' in sidecars[1]"));
    }

    @Test
    void noNetworkRulesOutSidecarsPortsAndSsh() {
        assertThat(DockerSpec.parse(Map.of("image", "debian:12", "network", "none", "ports", List.of(80))).problems())
                .containsExactly("network 'none' leaves the workspace without any network: it cannot have sidecars, "
                        + "ports or ssh");
        assertThat(DockerSpec.parse(Map.of("image", "debian:12", "network", "none")).problems()).isEmpty();
        assertThat(DockerSpec.parse(Map.of("image", "debian:12", "network", "corp net")).problems())
                .singleElement().asString().startsWith("network must be 'none' or the name of an existing Docker network");
    }

    @Test
    void sshDefaultsToPort22AsRootAndIsPublished() {
        DockerSpec spec = DockerSpec.parse(Map.of("image", "debian:12", "ssh", Map.of())).spec();
        assertThat(spec.ssh()).isEqualTo(new DockerSpec.SshSpec(22, "root"));
        assertThat(spec.publishedPorts()).containsExactly(new DockerSpec.PortSpec(22, 0, "tcp"));
        assertThat(DockerSpec.parse(Map.of("image", "debian:12", "ssh", Map.of("user", "Robert'); rm")))
                .problems()).containsExactly("ssh.user must be a Unix user name such as root or dev");
    }

    private static Map<String, Object> spec(Object... keysAndValues) {
        Map<String, Object> spec = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            spec.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return spec;
    }
}
