package dev.atelier.providers.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Workspaces of an engine that kept its bookkeeping inside the workspace ({@code .atelier/}): a newer engine takes
 * over their labels and a start-up process that really is theirs, ignores forged records and links, and hands a
 * directory an older engine made as root to the workspace's uid at the next start.
 */
class LegacyLocalWorkspacesTest {

    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    @TempDir
    Path tmp;
    private final List<Process> started = new ArrayList<>();
    private LocalWorkspaceProvider provider;

    @AfterEach
    void cleanUp() {
        started.forEach(Process::destroyForcibly);
        if (provider != null) {
            provider.close();
        }
    }

    @Test
    void aRunningWorkspaceOfAnOlderEngineIsAdoptedAndStoppedAndForgedRecordsAreIgnored() throws Exception {
        Path root = tmp.resolve("workspaces");
        String genuine = UUID.randomUUID().toString();
        String forged = UUID.randomUUID().toString();
        String linked = UUID.randomUUID().toString();
        Path hostFile = tmp.resolve("host-file.txt");
        Files.writeString(hostFile, "host content\n");

        // What an older engine left: its start-up process (its own session, started for the workspace) and records.
        Process legacy = start(genuine, "setsid", "sleep", "1001");
        legacyRecords(root, genuine, legacy, Map.of("atelier-workspace-id", genuine, "atelier-owner", "bob"));
        // A record naming a process that was not started for that workspace (the workspace wrote it itself).
        Process bystander = start(null, "setsid", "sleep", "1002");
        legacyRecords(root, forged, bystander, Map.of("atelier-workspace-id", genuine, "atelier-owner", "mallory"));
        // Records replaced by links to a host file.
        Files.createDirectories(root.resolve(linked).resolve(".atelier"));
        for (String name : List.of("process.json", "labels.json")) {
            Files.createSymbolicLink(root.resolve(linked).resolve(".atelier").resolve(name), hostFile);
        }

        provider = provider(root);

        ResourceDescription adopted = provider.describe(request(genuine));
        assertThat(adopted.state()).isEqualTo(ResourceDescription.State.RUNNING);
        assertThat(adopted.labels()).containsEntry("atelier-owner", "bob");
        assertThat(adopted.connection()).containsEntry("sandbox", "legacy");
        assertThat(root.resolve(genuine).resolve(".atelier/process.json")).as("the old record").doesNotExist();

        ResourceDescription fake = provider.describe(request(forged));
        assertThat(fake.state()).isEqualTo(ResourceDescription.State.STOPPED);
        assertThat(fake.labels()).as("never another workspace's id").containsEntry("atelier-workspace-id", forged);

        assertThat(provider.describe(request(linked)).labels()).isEmpty();
        assertThat(hostFile).hasContent("host content\n").isRegularFile();
        assertThat(root.resolve(linked).resolve(".atelier/process.json")).doesNotExist();

        provider.stop(request(genuine));
        provider.stop(request(forged));
        assertThat(legacy.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).as("the adopted process ended").isTrue();
        assertThat(bystander.isAlive()).as("a process a forged record names").isTrue();
    }

    @Test
    void aDirectoryAnOlderEngineMadeAsRootIsHandedToTheWorkspacesUidWithoutFollowingLinks() throws Exception {
        TestInfra.bubblewrap();
        assertThat(Sandboxes.engineUid()).as("these tests run the engine as root").isZero();
        Path root = tmp.resolve("workspaces");
        String id = UUID.randomUUID().toString();
        Path dir = Files.createDirectories(root.resolve(id).resolve("src/deep"));
        Files.writeString(dir.resolve("file.txt"), "old work\n");
        Path hostFile = Files.writeString(tmp.resolve("host-file.txt"), "host content\n");
        Files.createSymbolicLink(root.resolve(id).resolve("link-to-host"), hostFile);
        Files.createDirectories(root.resolve(id).resolve(".atelier"));

        provider = provider(root);
        ProvisionRequest request = new ProvisionRequest(id, 2, "bob", null,
                Map.of("startupScript", "echo more >> src/deep/file.txt && exec sleep 1000"), Map.of(), Map.of(), null);
        ProviderOperation op = provider.start(request);
        await().atMost(Duration.ofSeconds(10)).until(() -> provider.poll(request, op.operationId()).done());
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(dir.resolve("file.txt")).contains("more"));

        for (Path p : List.of(root.resolve(id), dir, dir.resolve("file.txt"))) {
            assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as(p.toString())
                    .isEqualTo(Sandboxes.DEFAULT_WORKSPACE_ID);
        }
        assertThat(Files.getAttribute(hostFile, "unix:uid")).as("the host file a link points at").isEqualTo(0);
        provider.delete(request);
        assertThat(hostFile).hasContent("host content\n");
    }

    private LocalWorkspaceProvider provider(Path root) {
        TestInfra.bubblewrap();
        return new LocalWorkspaceProvider(root, tmp.resolve("local-state"),
                Sandboxes.choose(LocalProviderProperties.Sandbox.BWRAP), Duration.ofMillis(200), Duration.ofSeconds(2),
                () -> "http://127.0.0.1:1");
    }

    private Process start(String workspaceId, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (workspaceId != null) {
            builder.environment().put("ATELIER_WORKSPACE_ID", workspaceId);
        }
        Process process = builder.start();
        started.add(process);
        await().atMost(Duration.ofSeconds(5)).until(() -> process.info().startInstant().isPresent());
        return process;
    }

    private static void legacyRecords(Path root, String id, Process process, Map<String, String> labels) throws Exception {
        Path meta = Files.createDirectories(root.resolve(id).resolve(".atelier"));
        Instant startedAt = process.info().startInstant().orElseThrow();
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("pid", process.pid());
        record.put("startedAt", startedAt);
        record.put("key", id + "-1");
        record.put("launchedAt", startedAt);
        JSON.writeValue(meta.resolve("process.json").toFile(), record);
        JSON.writeValue(meta.resolve("labels.json").toFile(), labels);
    }

    private static ProvisionRequest request(String id) {
        return new ProvisionRequest(id, 1, null, null, Map.of(), Map.of(), Map.of(), null);
    }
}
