package dev.atelier.providers.local;

import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The workspace agent runs beside the start-up script, with its environment, and stops with the workspace. */
class LocalAgentLaunchTest {

    @TempDir
    Path root;
    private final List<Runnable> cleanup = new ArrayList<>();

    @AfterEach
    void deleteWorkspaces() {
        cleanup.forEach(Runnable::run);
    }

    @ParameterizedTest
    @EnumSource(value = LocalProviderProperties.Sandbox.class, names = {"NONE", "BWRAP"})
    void theAgentRunsWithItsEnvironmentAndStopsWithTheWorkspace(LocalProviderProperties.Sandbox sandbox) {
        dev.atelier.support.TestInfra.bubblewrap();
        LocalWorkspaceProvider provider = new LocalWorkspaceProvider(root.resolve("workspaces"), root.resolve("state"),
                Sandboxes.choose(sandbox), Duration.ofMillis(200), Duration.ofSeconds(2), () -> "http://127.0.0.1:1");
        cleanup.add(provider::close);
        String id = UUID.randomUUID().toString();
        WorkspaceAgent agent = new WorkspaceAgent("echo \"$ATELIER_WORKSPACE_ID $ATELIER_AGENT_TOKEN\" > agent.out\nexec sleep 1000\n",
                Map.of("ATELIER_WORKSPACE_ID", id, "ATELIER_AGENT_TOKEN", "atw_secret", "ATELIER_URL", "http://127.0.0.1:1"));
        ProvisionRequest request = new ProvisionRequest(id, 1, "alice", null, Map.of("startupScript", "exec sleep 1000"),
                Map.of(), Map.of(), agent);
        cleanup.add(0, () -> provider.delete(request));

        ProviderOperation started = provider.create(request);
        await().atMost(Duration.ofSeconds(10)).until(() -> provider.poll(request, started.operationId()).done());
        Path out = root.resolve("workspaces").resolve(id).resolve("agent.out");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(out) && Files.size(out) > 0);
        assertThat(out).content().isEqualTo(id + " atw_secret\n");
        long pid = Long.parseLong(provider.poll(request, started.operationId()).connection().get("pid"));
        List<ProcessHandle> tree = ProcessHandle.of(pid).orElseThrow().descendants().toList();
        assertThat(tree).as("the agent beside the start-up script").isNotEmpty();

        provider.stop(request);
        assertThat(tree).noneMatch(ProcessHandle::isAlive);
    }
}
