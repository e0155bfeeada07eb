package dev.atelier.projections.workspaces;

import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The watch index (issue #15, SSE fan-out): an update reaches the watchers of its workspace, of its owner and of all
 * workspaces, and no one else; a closed watch leaves nothing in the index.
 */
class WorkspaceWatchersTest {

    private final WorkspaceWatchers watchers = new WorkspaceWatchers();

    @Test
    void aWorkspaceWatcherGetsOnlyItsWorkspaceAndAListWatcherGetsAll() {
        Received a = received(watchers.workspace("ws-a"));
        Received b = received(watchers.workspace("ws-b"));
        Received all = received(watchers.workspaces(null));
        Received alice = received(watchers.workspaces("alice"));

        watchers.publish(view("ws-a", "alice", "STARTING"));
        watchers.publish(view("ws-b", "bob", "STARTING"));
        watchers.publish(view("ws-a", "alice", "RUNNING"));

        assertThat(a.views).extracting(v -> v.id() + "/" + v.status()).containsExactly("ws-a/STARTING", "ws-a/RUNNING");
        assertThat(b.views).extracting(v -> v.id() + "/" + v.status()).containsExactly("ws-b/STARTING");
        assertThat(all.views).extracting(WorkspaceView::id).containsExactly("ws-a", "ws-b", "ws-a");
        assertThat(alice.views).extracting(WorkspaceView::id).containsExactly("ws-a", "ws-a");
    }

    @Test
    void closingAWatchRemovesItFromTheIndexAndEndsItsUpdates() {
        assertThat(watchers.size()).isZero();
        WorkspaceWatchers.Watch first = watchers.workspace("ws-a");
        WorkspaceWatchers.Watch second = watchers.workspace("ws-a");
        WorkspaceWatchers.Watch owner = watchers.workspaces("alice");
        WorkspaceWatchers.Watch all = watchers.workspaces(null);
        Received seen = received(first);
        // two index entries (ws-a, alice) and four watches
        assertThat(watchers.size()).isEqualTo(6);

        first.close();
        assertThat(seen.completed).isTrue();
        watchers.publish(view("ws-a", "alice", "RUNNING"));
        assertThat(seen.views).isEmpty();
        assertThat(watchers.size()).isEqualTo(5);

        second.close();
        owner.close();
        all.close();
        first.close(); // twice is harmless
        assertThat(watchers.size()).isZero();
    }

    @Test
    void aWatcherThatFallsTooFarBehindIsEndedAndRemoved() {
        WorkspaceWatchers.Watch slow = watchers.workspace("ws-a");
        for (int i = 0; i <= WorkspaceWatchers.BUFFER; i++) {
            watchers.publish(view("ws-a", "alice", "RUNNING"));
        }
        assertThat(watchers.size()).isZero();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<WorkspaceView> views = new CopyOnWriteArrayList<>();
        slow.updates().subscribe(views::add, errors::add);
        assertThat(views).hasSize(WorkspaceWatchers.BUFFER);
        assertThat(errors).singleElement().satisfies(e -> assertThat(e).hasMessageContaining("behind"));
    }

    private static final class Received {
        final List<WorkspaceView> views = new CopyOnWriteArrayList<>();
        volatile boolean completed;
        Disposable subscription;
    }

    private static Received received(WorkspaceWatchers.Watch watch) {
        Received received = new Received();
        received.subscription = watch.updates().subscribe(received.views::add, e -> { },
                () -> received.completed = true);
        return received;
    }

    private static WorkspaceView view(String id, String owner, String status) {
        Instant now = Instant.parse("2026-12-04T17:00:00Z");
        return new WorkspaceView(id, id + "-name", owner, null, "HUMAN", "t", 1, "local", status, 1, null, now, now,
                Map.of(), Map.of(), null, false);
    }
}
