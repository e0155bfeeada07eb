package dev.atelier.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code atelier ssh --stdio}: a byte pipe between stdin/stdout and a TCP port, needing no credentials when the
 * gateway's address is given (as config-ssh writes it into ProxyCommand). The far end here is a TCP server that
 * answers with what it read, upper-cased, once the pipe closed its side.
 */
class StdioPipeTest {

    @TempDir
    Path home;

    @Test
    void bytesGoBothWaysAndStdinsEndHalfClosesTheConnection() throws Exception {
        try (ServerSocket server = new ServerSocket(0)) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
                try (Socket socket = server.accept()) {
                    InputStream in = socket.getInputStream();
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    OutputStream out = socket.getOutputStream();
                    out.write(text.toUpperCase().getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    return text;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            CliRun.Result piped = new CliRun(home).runWithInput("SSH-2.0-test\r\nhello",
                    "ssh", "--stdio", "--gateway", "127.0.0.1:" + server.getLocalPort(), "web");
            assertThat(piped.exitCode()).as(piped.toString()).isZero();
            assertThat(received.get()).isEqualTo("SSH-2.0-test\r\nhello");
            assertThat(new String(piped.stdout(), StandardCharsets.UTF_8)).isEqualTo("SSH-2.0-TEST\r\nHELLO");
            assertThat(piped.out()).isEmpty();
        }
    }

    @Test
    void aGatewayThatIsNotThereIsExitEight() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        CliRun.Result piped = new CliRun(home).run("ssh", "--stdio", "--gateway", "127.0.0.1:" + closed, "web");
        assertThat(piped.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(piped.err()).startsWith("error: cannot reach the SSH gateway at 127.0.0.1:" + closed);
        assertThat(new CliRun(home).run("ssh", "--stdio", "--gateway", "host;rm:22", "web").exitCode())
                .isEqualTo(ExitCodes.USAGE);
    }
}
