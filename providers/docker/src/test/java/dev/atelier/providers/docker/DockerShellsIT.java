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
    private static String daemon;

    @BeforeAll
    static void container() {
        String host = TestInfra.podman();
        daemon = host;
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
        DockerShells shells = new DockerShells(docker, ExecConnection.supports(daemon, false));
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

    /**
     * The end of the client's input reaches the command ({@code ssh ws 'cat > f' < file}, an sftp-server at the end of
     * a session): the engine's own attach connection is half-closed when stdin is.
     */
    @Test
    void theEndOfInputEndsACommandThatReadsIt() throws Exception {
        DockerShells shells = new DockerShells(docker, ExecConnection.supports(daemon, false));
        WorkspaceShell.ShellProcess p = shells.open(container, new WorkspaceShell.ShellRequest(
                List.of("sh", "-c", "wc -c; echo after-the-end"), null, Map.of()));
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.stdout()));
        byte[] input = new byte[300_000];
        java.util.Arrays.fill(input, (byte) 'x');
        p.stdin().write(input);
        p.stdin().close();
        assertThat(p.exit().get(20, TimeUnit.SECONDS)).isZero();
        assertThat(out.get(5, TimeUnit.SECONDS)).isEqualTo("300000\nafter-the-end\n");
    }

    @Test
    void onlyAPlainDaemonAddressGetsAConnectionOfTheEnginesOwn() {
        assertThat(ExecConnection.supports("unix:///var/run/docker.sock", false)).isPresent();
        assertThat(ExecConnection.supports("tcp://10.0.0.5:2375", false)).isPresent();
        assertThat(ExecConnection.supports("tcp://10.0.0.5:2376", true)).isEmpty();
        assertThat(ExecConnection.supports("npipe:////./pipe/docker_engine", false)).isEmpty();
    }

    @Test
    void aTerminalHasTheClientsSize() throws Exception {
        DockerShells shells = new DockerShells(docker, ExecConnection.supports(daemon, false));
        WorkspaceShell.ShellProcess p = shells.open(container, new WorkspaceShell.ShellRequest(List.of(),
                new WorkspaceShell.Terminal("xterm", 99, 33), Map.of()));
        StringBuffer out = new StringBuffer();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try {
                int n;
                while ((n = p.stdout().read(buffer)) >= 0) {
                    out.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (java.io.IOException e) {
                // ended
            }
        });
        reader.start();
        p.stdin().write("stty size; echo resi''zed; read go; stty size; exit 3\n".getBytes(StandardCharsets.UTF_8));
        p.stdin().flush();
        // A window change (the client's SIGWINCH) reaches the terminal: the second stty sees the new size.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> out.toString().contains("resized"));
        p.resize(120, 40);
        p.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
        p.stdin().flush();
        assertThat(p.exit().get(20, TimeUnit.SECONDS)).isEqualTo(3);
        reader.join(5000);
        assertThat(out.toString()).contains("33 99").contains("40 120");
        assertThat(p.stderr()).isNull();
    }
}
