package dev.atelier.providers.docker;

import com.github.dockerjava.api.DockerClient;
import dev.atelier.provider.WorkspaceShell;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The docker provider's side of the SSH gateway on podman's Docker API: exec with exit status, a TTY, a relay. */
class DockerShellsIT {

    private static DockerClient docker;
    private static String container;

    @BeforeAll
    static void container() {
        String host = TestInfra.podman();
        docker = DockerProviderConfiguration.client(new DockerProviderProperties(true, host, false, null, "127.0.0.1",
                null, Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(1), List.of()));
        container = "atelier-shells-it-" + System.nanoTime();
        docker.createContainerCmd(TestInfra.BUSYBOX_IMAGE).withName(container).withCmd("sleep", "600").exec();
        docker.startContainerCmd(container).exec();
    }

    @AfterAll
    static void remove() throws Exception {
        docker.removeContainerCmd(container).withForce(true).exec();
        docker.close();
    }

    private static String drain(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void anExecReportsItsOutputAndExitStatus() throws Exception {
        DockerShells shells = new DockerShells(docker);
        WorkspaceShell.ShellProcess p = shells.open(container, new WorkspaceShell.ShellRequest(
                List.of("sh", "-c", "read line; echo \"got $line\"; echo err >&2; exit 7"), null, Map.of()));
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.stdout()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.stderr()));
        p.stdin().write("input\n".getBytes(StandardCharsets.UTF_8));
        p.stdin().flush();
        assertThat(p.exit().get(20, TimeUnit.SECONDS)).isEqualTo(7);
        assertThat(out.get(5, TimeUnit.SECONDS)).isEqualTo("got input\n");
        assertThat(err.get(5, TimeUnit.SECONDS)).isEqualTo("err\n");
    }

    @Test
    void aTerminalHasTheClientsSize() throws Exception {
        DockerShells shells = new DockerShells(docker);
        WorkspaceShell.ShellProcess p = shells.open(container, new WorkspaceShell.ShellRequest(List.of(),
                new WorkspaceShell.Terminal("xterm", 99, 33), Map.of()));
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.stdout()));
        p.stdin().write("stty size; exit 3\n".getBytes(StandardCharsets.UTF_8));
        p.stdin().flush();
        assertThat(p.exit().get(20, TimeUnit.SECONDS)).isEqualTo(3);
        assertThat(out.get(5, TimeUnit.SECONDS)).contains("33 99");
        assertThat(p.stderr()).isNull();
    }
}
