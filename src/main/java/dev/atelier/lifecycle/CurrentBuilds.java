package dev.atelier.lifecycle;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import dev.atelier.projections.workspaces.WorkspaceQueries;
import dev.atelier.projections.workspaces.WorkspaceView;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.queryhandling.QueryGateway;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The current build and status of workspaces, in memory, for the check every agent heartbeat makes (is this token's
 * build the current one, and does the workspace run?). Kept current by the workspace's own events on a subscribing
 * processor, so the entry changes while the event that changes it is being published: an agent token is refused
 * from the moment the stop (or the next build) that revokes it is stored, not once a read model has caught up. A
 * workspace that is not held (never seen since start-up, or evicted) is loaded once from the workspaces read model.
 * <p>
 * Bounded by {@code atelier.agent.current-builds.size}; every entry is dropped {@code refresh-after} after it was
 * written, which bounds how long a node can miss a change made on another node (a subscribing processor sees only
 * the events published on its own node; on a single node the events keep every entry current anyway).
 */
@Component
@ProcessingGroup(CurrentBuilds.PROCESSING_GROUP)
public class CurrentBuilds {

    public static final String PROCESSING_GROUP = "current-builds";

    /** A workspace's build number and status. */
    public record Build(long number, WorkspaceStatus status) {

        /** Whether heartbeats are taken: the workspace runs or is starting (its agent may report early). */
        public boolean takesActivity() {
            return status.takesActivity();
        }

        /**
         * Which of two known states of one workspace is the later one: the higher build; in one build the outcome
         * (RUNNING, STOPPED, FAILED...) comes after the transition's start (STARTING, STOPPING...). On a tie the
         * incoming one wins. A state loaded from a lagging read model therefore never replaces one an event wrote.
         */
        static Build later(Build held, Build incoming) {
            if (incoming.number != held.number) {
                return incoming.number > held.number ? incoming : held;
            }
            return held.status.inTransition() || !incoming.status.inTransition() ? incoming : held;
        }
    }

    private final Cache<String, Build> builds;
    private final Function<String, CompletableFuture<Optional<Build>>> readModel;

    @Autowired
    public CurrentBuilds(QueryGateway queries, Settings settings) {
        this(id -> queries.query(new WorkspaceQueries.FindWorkspace(id), ResponseTypes.optionalInstanceOf(WorkspaceView.class))
                .thenApply(view -> view.map(v -> new Build(v.buildNumber(), WorkspaceStatus.valueOf(v.status())))),
                settings, Ticker.systemTicker());
    }

    /** @param readModel where a workspace that is not held is looked up (the workspaces read model) */
    public CurrentBuilds(Function<String, CompletableFuture<Optional<Build>>> readModel, Settings settings, Ticker ticker) {
        this.readModel = readModel;
        this.builds = Caffeine.newBuilder()
                .maximumSize(settings.size())
                .expireAfterWrite(settings.refreshAfter())
                .ticker(ticker)
                .executor(Runnable::run)
                .build();
    }

    /** The workspace's current build, from memory; from the read model if it is not held; empty if unknown. */
    public Mono<Optional<Build>> current(String workspaceId) {
        Build held = builds.getIfPresent(workspaceId);
        if (held != null) {
            return Mono.just(Optional.of(held));
        }
        return Mono.fromFuture(() -> readModel.apply(workspaceId))
                .map(loaded -> loaded.map(build -> record(workspaceId, build)));
    }

    /** How many workspaces are held now. */
    public long held() {
        builds.cleanUp();
        return builds.estimatedSize();
    }

    @EventHandler
    void on(WorkspaceCreatedEvent event) {
        recordEvent(event.workspaceId(), new Build(0, WorkspaceStatus.PENDING));
    }

    @EventHandler
    void on(WorkspaceTransitionStartedEvent event) {
        recordEvent(event.workspaceId(), new Build(event.buildNumber(), event.transition().during()));
    }

    @EventHandler
    void on(WorkspaceTransitionSucceededEvent event) {
        recordEvent(event.workspaceId(), new Build(event.buildNumber(), event.transition().after()));
    }

    @EventHandler
    void on(WorkspaceTransitionFailedEvent event) {
        recordEvent(event.workspaceId(), new Build(event.buildNumber(), WorkspaceStatus.FAILED));
    }

    /**
     * The handler runs while the event is being stored, before the transaction commits: should it still roll back,
     * the entry is forgotten and the next beat looks the workspace up again (a build that was never stored must not
     * revoke the token of the one that is).
     */
    private void recordEvent(String workspaceId, Build build) {
        record(workspaceId, build);
        CurrentUnitOfWork.ifStarted(unitOfWork -> unitOfWork.root().onRollback(u -> builds.invalidate(workspaceId)));
    }

    private Build record(String workspaceId, Build build) {
        return builds.asMap().merge(workspaceId, build, Build::later);
    }

    /**
     * {@code atelier.agent.current-builds.*}.
     *
     * @param size         workspaces held at most (least recently used go first); one entry is a few dozen bytes
     * @param refreshAfter an entry is looked up again this long after it was written: the most a node can lag
     *                     behind a stop handled on another node
     */
    @ConfigurationProperties("atelier.agent.current-builds")
    public record Settings(@DefaultValue("100000") long size, @DefaultValue("PT1M") Duration refreshAfter) {

        public Settings {
            if (size < 1 || refreshAfter.isNegative() || refreshAfter.isZero()) {
                throw new IllegalArgumentException("atelier.agent.current-builds needs size >= 1 and a positive "
                        + "refresh-after, was " + size + " and " + refreshAfter);
            }
        }
    }
}
