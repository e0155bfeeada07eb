package dev.atelier.lifecycle;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import dev.atelier.lifecycle.CurrentBuilds.Build;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-memory build/status view agent heartbeats are checked against: loads on a miss, follows events, is bounded. */
class CurrentBuildsTest {

    /** The read model at the boundary: what it holds and who asked. */
    final Map<String, Build> readModel = new ConcurrentHashMap<>();
    final List<String> lookups = new CopyOnWriteArrayList<>();
    final AtomicLong nanos = new AtomicLong();

    CurrentBuilds view(long size, Duration refreshAfter) {
        return new CurrentBuilds(id -> {
            lookups.add(id);
            return CompletableFuture.completedFuture(Optional.ofNullable(readModel.get(id)));
        }, new CurrentBuilds.Settings(size, refreshAfter), nanos::get);
    }

    @Test
    void aMissLoadsFromTheReadModelOnceAndAHitAsksNobody() {
        readModel.put("ws-1", new Build(3, WorkspaceStatus.RUNNING));
        CurrentBuilds builds = view(10, Duration.ofMinutes(1));

        assertThat(builds.current("ws-1").block()).contains(new Build(3, WorkspaceStatus.RUNNING));
        assertThat(builds.current("ws-1").block()).contains(new Build(3, WorkspaceStatus.RUNNING));
        assertThat(lookups).containsExactly("ws-1");

        assertThat(builds.current("unknown").block()).isEmpty();
        assertThat(builds.current("unknown").block()).as("absence is not held").isEmpty();
        assertThat(lookups).containsExactly("ws-1", "unknown", "unknown");
    }

    @Test
    void eventsChangeTheHeldBuildWithoutAskingTheReadModel() {
        CurrentBuilds builds = view(10, Duration.ofMinutes(1));
        builds.on(started("ws-1", 1, Transition.START));
        assertThat(builds.current("ws-1").block()).contains(new Build(1, WorkspaceStatus.STARTING));
        builds.on(new WorkspaceTransitionSucceededEvent("ws-1", 1, Transition.START, "r", Map.of(), false, null));
        assertThat(builds.current("ws-1").block()).get().matches(Build::takesActivity).isEqualTo(new Build(1, WorkspaceStatus.RUNNING));

        builds.on(started("ws-1", 2, Transition.STOP));
        Build stopping = builds.current("ws-1").block().orElseThrow();
        assertThat(stopping).isEqualTo(new Build(2, WorkspaceStatus.STOPPING));
        assertThat(stopping.takesActivity()).isFalse();
        builds.on(new WorkspaceTransitionFailedEvent("ws-1", 2, Transition.STOP, "boom"));
        assertThat(builds.current("ws-1").block()).contains(new Build(2, WorkspaceStatus.FAILED));
        assertThat(lookups).isEmpty();
    }

    @Test
    void aLaggingReadModelNeverReplacesWhatAnEventWrote() {
        CurrentBuilds builds = view(10, Duration.ofMinutes(1));
        builds.on(started("ws-1", 2, Transition.STOP));
        // The entry expires; the read model has not seen the stop yet and still says build 1, RUNNING.
        nanos.addAndGet(Duration.ofMinutes(2).toNanos());
        readModel.put("ws-1", new Build(1, WorkspaceStatus.RUNNING));
        assertThat(builds.current("ws-1").block()).as("reloaded after refresh-after").contains(new Build(1, WorkspaceStatus.RUNNING));
        builds.on(new WorkspaceTransitionSucceededEvent("ws-1", 2, Transition.STOP, "r", Map.of(), false, null));
        assertThat(builds.current("ws-1").block()).as("the event wins over the held load").contains(new Build(2, WorkspaceStatus.STOPPED));
        // And a stale load merged after an event does not undo it.
        assertThat(Build.later(new Build(2, WorkspaceStatus.STOPPED), new Build(1, WorkspaceStatus.RUNNING)))
                .isEqualTo(new Build(2, WorkspaceStatus.STOPPED));
        assertThat(Build.later(new Build(2, WorkspaceStatus.STOPPED), new Build(2, WorkspaceStatus.STOPPING)))
                .as("an outcome is later than its transition's start").isEqualTo(new Build(2, WorkspaceStatus.STOPPED));
        assertThat(lookups).containsExactly("ws-1");
    }

    @Test
    void theBoundEvictsAndAnEvictedWorkspaceIsLoadedAgain() {
        CurrentBuilds builds = view(2, Duration.ofMinutes(1));
        for (int i = 0; i < 5; i++) {
            builds.on(started("ws-" + i, 1, Transition.START));
        }
        assertThat(builds.held()).isLessThanOrEqualTo(2);
        for (int i = 0; i < 5; i++) {
            builds.current("ws-" + i).block();
        }
        assertThat(lookups).as("evicted ones are looked up again").hasSizeGreaterThanOrEqualTo(3);
        assertThat(builds.held()).isLessThanOrEqualTo(2);
    }

    @Test
    void aBuildWhoseTransactionRollsBackIsForgotten() {
        readModel.put("ws-1", new Build(1, WorkspaceStatus.RUNNING));
        CurrentBuilds builds = view(10, Duration.ofMinutes(1));
        builds.on(started("ws-1", 1, Transition.START));
        UnitOfWork<?> storing = DefaultUnitOfWork.startAndGet(null);
        builds.on(started("ws-1", 2, Transition.STOP));
        assertThat(builds.current("ws-1").block()).contains(new Build(2, WorkspaceStatus.STOPPING));
        storing.rollback();
        assertThat(builds.current("ws-1").block()).as("looked up again").contains(new Build(1, WorkspaceStatus.RUNNING));
        assertThat(lookups).containsExactly("ws-1");

        UnitOfWork<?> stored = DefaultUnitOfWork.startAndGet(null);
        builds.on(started("ws-1", 2, Transition.STOP));
        stored.commit();
        assertThat(builds.current("ws-1").block()).contains(new Build(2, WorkspaceStatus.STOPPING));
        assertThat(lookups).containsExactly("ws-1");
    }

    private static WorkspaceTransitionStartedEvent started(String id, long build, Transition transition) {
        return new WorkspaceTransitionStartedEvent(id, build, transition, TransitionReason.USER, Actor.user("alice"),
                "t", 1, "local", null, false, "alice", Map.of());
    }
}
