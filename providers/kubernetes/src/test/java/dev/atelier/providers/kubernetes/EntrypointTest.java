package dev.atelier.providers.kubernetes;

import dev.atelier.provider.WorkspaceAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The container entrypoint wrapper, run by a real {@code /bin/sh} here with the Secret's files where the pod would
 * mount them: the agent starts with its environment, and the template's command runs with its arguments untouched
 * and without the agent's token.
 */
class EntrypointTest {

    @Test
    void startsTheAgentWithItsEnvironmentAndExecsTheCommandWithItsArgumentsUntouched(@TempDir Path dir) throws Exception {
        Path agentDir = Files.createDirectory(dir.resolve("atelier"));
        String token = "tok'en-" + UUID.randomUUID() + " $(touch " + dir.resolve("pwned") + ")";
        WorkspaceAgent agent = new WorkspaceAgent("env > '" + dir.resolve("agent-env.tmp") + "'; mv '"
                + dir.resolve("agent-env.tmp") + "' '" + dir.resolve("agent-env.txt") + "'\n",
                Map.of("ATELIER_AGENT_TOKEN", token, "ATELIER_URL", "http://engine:8080"));
        var secret = WorkspaceObjects.secret("ns", "atelier-x", KubernetesWorkspaceProviderTest.withAgent(agent));
        // What the kubelet does with the Secret volume: one file per key.
        for (String key : List.of(WorkspaceObjects.AGENT_SCRIPT, WorkspaceObjects.AGENT_ENV)) {
            Files.write(agentDir.resolve(key), Base64.getDecoder().decode(secret.getData().get(key)));
        }

        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c",
                WorkspaceObjects.ENTRYPOINT.replace(KubernetesSpec.AGENT_DIR, agentDir.toString()), "atelier-entrypoint"));
        command.addAll(List.of("/bin/sh", "-c", "printf '%s\\n' \"$@\" > args.txt; env > command-env.txt", "cmd",
                "two words", "$HOME", "'quoted'", "; rm -rf /"));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(new String(process.getInputStream().readAllBytes())).isZero();

        assertThat(Files.readAllLines(dir.resolve("args.txt"))).containsExactly("two words", "$HOME", "'quoted'",
                "; rm -rf /");
        assertThat(Files.readString(dir.resolve("command-env.txt"))).doesNotContain("ATELIER_AGENT_TOKEN");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("agent-env.txt")));
        assertThat(Files.readAllLines(dir.resolve("agent-env.txt"), StandardCharsets.UTF_8))
                .contains("ATELIER_AGENT_TOKEN=" + token, "ATELIER_URL=http://engine:8080");
        assertThat(dir.resolve("pwned")).as("nothing in the token is run").doesNotExist();
    }

    @Test
    void withoutAnAgentScriptOnlyTheCommandRuns(@TempDir Path dir) throws Exception {
        Path agentDir = Files.createDirectory(dir.resolve("atelier"));
        Files.writeString(agentDir.resolve(WorkspaceObjects.AGENT_SCRIPT), "");
        Files.writeString(agentDir.resolve(WorkspaceObjects.AGENT_ENV), "");
        Process process = new ProcessBuilder("/bin/sh", "-c",
                WorkspaceObjects.ENTRYPOINT.replace(KubernetesSpec.AGENT_DIR, agentDir.toString()), "atelier-entrypoint",
                "/bin/sh", "-c", "exit 7").start();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("the command's own exit code").isEqualTo(7);
    }
}
