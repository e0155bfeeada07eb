package dev.atelier.projections.workspaces;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's open watch streams (SSE), indexed by what they watch: one workspace, one owner's workspaces, or all
 * workspaces. The workspaces projection hands every view it changed here after its batch has committed (and every
 * view another node changed, told through {@code pg_notify}), and an update reaches only its own watchers: the
 * watchers of its workspace, of its owner, and of all workspaces.
 * <p>
 * Why not Axon's subscription queries, as before: {@code QueryUpdateEmitter.emit(type, filter, update)} tests the
 * filter of every open subscription for every update, so with 1,000 watchers each update cost 1,000 tests twice;
 * {@code WorkspaceProjection.emit} was 39 % of the samples of the SSE fan-out benchmark of 2026-12-04
 * (docs/benchmarks.md). Here an update costs three map look-ups and what its watchers cost.
 */
@Component
public class WorkspaceWatchers {

    private static final Logger log = LoggerFactory.getLogger(WorkspaceWatchers.class);
    /** Updates a watcher may have waiting before its stream is ended (the client reconnects and reads afresh). */
    static final int BUFFER = 1024;

    private final Map<String, Set<Watch>> byWorkspace = new ConcurrentHashMap<>();
    private final Map<String, Set<Watch>> byOwner = new ConcurrentHashMap<>();
    private final Set<Watch> everything = ConcurrentHashMap.newKeySet();

    /** One open watch: its updates, until {@link #close()}. */
    public final class Watch implements AutoCloseable {
        private final Map<String, Set<Watch>> index;
        private final String key;
        private final Sinks.Many<WorkspaceView> sink =
                Sinks.many().unicast().onBackpressureBuffer(new ArrayBlockingQueue<>(BUFFER));
        private volatile boolean closed;

        private Watch(Map<String, Set<Watch>> index, String key) {
            this.index = index;
            this.key = key;
        }

        /** The views handed to this watch from its opening on, in the order they were handed over. */
        public Flux<WorkspaceView> updates() {
            return sink.asFlux();
        }

        private synchronized void offer(WorkspaceView view) {
            if (closed) {
                return;
            }
            Sinks.EmitResult result = sink.tryEmitNext(view);
            if (result.isFailure()) {
                // Its buffer is full (reported as an overflow, or as no subscriber while nobody reads it yet), or
                // its stream has ended: either way the watch is over.
                log.warn("a watch stream cannot take an update ({}) and is ended; its client reconnects", result);
                sink.tryEmitError(new IllegalStateException("the watch fell too far behind"));
                close();
            }
        }

        /** Removes the watch from the index (an empty entry goes with it) and ends its updates. */
        @Override
        public void close() {
            closed = true;
            if (index == null) {
                everything.remove(this);
            } else {
                index.computeIfPresent(key, (k, watches) -> {
                    watches.remove(this);
                    return watches.isEmpty() ? null : watches;
                });
            }
            sink.tryEmitComplete();
        }
    }

    /** Opens a watch of one workspace. Open it before reading the current view, so that no change is missed. */
    public Watch workspace(String workspaceId) {
        return open(byWorkspace, workspaceId);
    }

    /** Opens a watch of {@code owner}'s workspaces, or of all workspaces when {@code owner} is null. */
    public Watch workspaces(String owner) {
        if (owner == null) {
            Watch watch = new Watch(null, null);
            everything.add(watch);
            return watch;
        }
        return open(byOwner, owner);
    }

    private Watch open(Map<String, Set<Watch>> index, String key) {
        Watch watch = new Watch(index, key);
        index.compute(key, (k, watches) -> {
            Set<Watch> set = watches == null ? ConcurrentHashMap.newKeySet() : watches;
            set.add(watch);
            return set;
        });
        return watch;
    }

    /** Hands a view to the watchers of its workspace, of its owner and of all workspaces. */
    void publish(WorkspaceView view) {
        offer(byWorkspace.get(view.id()), view);
        if (view.owner() != null) {
            offer(byOwner.get(view.owner()), view);
        }
        offer(everything, view);
    }

    private static void offer(Set<Watch> watches, WorkspaceView view) {
        if (watches != null) {
            for (Watch watch : watches) {
                watch.offer(view);
            }
        }
    }

    /** Whether any watch is open on this node: when none is, the projection builds no update at all. */
    boolean watched() {
        return !byWorkspace.isEmpty() || !byOwner.isEmpty() || !everything.isEmpty();
    }

    /** Open watches plus index entries (tests: a closed watch leaves nothing behind). */
    public int size() {
        int size = everything.size() + byWorkspace.size() + byOwner.size();
        for (Set<Watch> watches : byWorkspace.values()) {
            size += watches.size();
        }
        for (Set<Watch> watches : byOwner.values()) {
            size += watches.size();
        }
        return size;
    }
}
