package dev.atelier.projections.cost;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.template.TemplateCreatedEvent;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.template.TemplateVersionPublishedEvent;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.domain.workspace.WorkspaceKind;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import org.axonframework.eventhandling.AnnotationEventHandlerAdapter;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.messaging.MetaData;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Event histories with chosen timestamps, delivered to projections the way Axon delivers them (through their
 * annotated handlers, with {@code @Timestamp} and {@code @SequenceNumber}), and replayable after a reset.
 */
final class EventFeed {

    private static final Actor ALICE = Actor.user("alice");

    private final List<AnnotationEventHandlerAdapter> handlers = new ArrayList<>();
    private final List<EventMessage<?>> log = new ArrayList<>();
    private final Map<String, Long> sequences = new HashMap<>();

    EventFeed(Object... projections) {
        for (Object projection : projections) {
            handlers.add(new AnnotationEventHandlerAdapter(projection));
        }
    }

    void publish(String type, String aggregateId, Object payload, Instant at) {
        long sequence = sequences.merge(aggregateId, 0L, (old, ignored) -> old + 1);
        EventMessage<?> message = new GenericDomainEventMessage<>(type, aggregateId, sequence, payload,
                MetaData.emptyInstance(), UUID.randomUUID().toString(), at);
        log.add(message);
        deliver(message);
    }

    /** What a rebuild does: every projection's reset handler, then every event again in order. */
    void replay() {
        for (AnnotationEventHandlerAdapter handler : handlers) {
            handler.prepareReset();
        }
        log.forEach(this::deliver);
    }

    private void deliver(EventMessage<?> message) {
        for (AnnotationEventHandlerAdapter handler : handlers) {
            if (handler.canHandle(message)) {
                try {
                    handler.handle(message);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    void template(String id, String name, TemplateDefinition v1, Instant at) {
        publish("Template", id, new TemplateCreatedEvent(id, name, null, ALICE), at);
        publish("Template", id, new TemplateVersionPublishedEvent(id, 1, v1, ALICE), at);
    }

    void version(String id, int version, TemplateDefinition definition, Instant at) {
        publish("Template", id, new TemplateVersionPublishedEvent(id, version, definition, ALICE), at);
    }

    /** A workspace created at {@code at}, its first START beginning at once (as the aggregate does). */
    Workspace workspace(String id, String owner, String team, String templateId, String provider, Instant at) {
        Workspace ws = new Workspace(id, owner, templateId, provider);
        publish("Workspace", id, new WorkspaceCreatedEvent(id, id + "-name", owner, team, WorkspaceKind.HUMAN,
                templateId, 1, provider, Map.of(), Map.of(), Actor.user(owner), null), at);
        ws.begin(Transition.START, TransitionReason.USER, 1, at);
        return ws;
    }

    final class Workspace {
        private final String id;
        private final String owner;
        private final String templateId;
        private final String provider;
        private long build;
        private Transition current;
        private int version = 1;

        private Workspace(String id, String owner, String templateId, String provider) {
            this.id = id;
            this.owner = owner;
            this.templateId = templateId;
            this.provider = provider;
        }

        Workspace succeeded(Instant at) {
            publish("Workspace", id, new WorkspaceTransitionSucceededEvent(id, build, current, "res-" + id, Map.of(),
                    false, null), at);
            return this;
        }

        /** Reconciliation found the resource stopped or gone behind the engine's back. */
        Workspace drifted(Instant at, dev.atelier.domain.workspace.DriftFinding found) {
            dev.atelier.domain.workspace.WorkspaceStatus to = found == dev.atelier.domain.workspace.DriftFinding.GONE
                    ? dev.atelier.domain.workspace.WorkspaceStatus.FAILED : dev.atelier.domain.workspace.WorkspaceStatus.STOPPED;
            publish("Workspace", id, new dev.atelier.domain.workspace.WorkspaceDriftedEvent(id, build,
                    dev.atelier.domain.workspace.WorkspaceStatus.RUNNING, to, found, TransitionReason.SYSTEM,
                    "found by reconciliation"), at);
            return this;
        }

        Workspace failed(Instant at) {
            publish("Workspace", id, new WorkspaceTransitionFailedEvent(id, build, current, "provider said no"), at);
            return this;
        }

        Workspace start(Instant at, int templateVersion) {
            version = templateVersion;
            return begin(Transition.START, TransitionReason.USER, templateVersion, at);
        }

        Workspace stop(Instant at, TransitionReason reason) {
            return begin(Transition.STOP, reason, version, at);
        }

        Workspace delete(Instant at, TransitionReason reason) {
            return begin(Transition.DELETE, reason, version, at);
        }

        private Workspace begin(Transition transition, TransitionReason reason, int templateVersion, Instant at) {
            build++;
            current = transition;
            Actor actor = reason == TransitionReason.USER ? Actor.user(owner) : Actor.SYSTEM;
            publish("Workspace", id, new WorkspaceTransitionStartedEvent(id, build, transition, reason, actor,
                    templateId, templateVersion, provider, build == 1 ? null : "res-" + id, false, owner, Map.of()), at);
            return this;
        }
    }
}
