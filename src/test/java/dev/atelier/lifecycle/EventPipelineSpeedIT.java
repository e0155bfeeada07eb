package dev.atelier.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.config.BoundedAggregateCache;
import dev.atelier.config.CommandRetries;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.workspace.StartWorkspaceCommand;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.DriftFinding;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.domain.workspace.WorkspaceDriftedEvent;
import dev.atelier.domain.workspace.ActivityReader;
import dev.atelier.domain.workspace.ExtendWorkspaceCommand;
import dev.atelier.domain.workspace.Workspace;
import dev.atelier.domain.workspace.WorkspaceKeepAliveExtendedEvent;
import dev.atelier.projections.idle.ActivityIngestor;
import dev.atelier.security.AgentTokens;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.modelling.command.ConcurrencyException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Issue #15 on the real engine: agent heartbeats checked against the in-memory current build (refused from the
 * stop's own event on), the bounded aggregate cache (an event another node appended is never lost) and workspace
 * snapshots (a snapshotted workspace loads to the state it had in memory).
 */
class EventPipelineSpeedIT extends EngineIntegrationTest {

    @Autowired
    AgentTokens agentTokens;
    @Autowired
    ActivityIngestor activity;
    @Autowired
    CommandGateway commands;
    @Autowired
    EventStore eventStore;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    org.axonframework.config.Configuration axon;
    @Autowired
    @Qualifier("workspaceCache")
    BoundedAggregateCache workspaceCache;
    @Autowired
    ObjectMapper json;

    @Test
    void theStopRevokesTheAgentTokenForTheVeryNextHeartbeat() {
        String id = runningWorkspace("revoked-at-once");
        ApiClient agent = client(agentTokens.issue(id, 1));
        String path = "/api/v1/workspaces/" + id + "/activity";
        assertThat(agent.post(path, Map.of("sources", Map.of("ssh", 0, "agent", 0))).status()).isEqualTo(204);

        ApiClient.Response stop = admin.post("/api/v1/workspaces/" + id + "/stop", null);
        assertThat(stop.status()).isEqualTo(202);
        ActivityReader.Activity before = activity.activity(id);
        // No waiting: the stop's event, stored before the 202, already moved the workspace to build 2.
        ApiClient.Response refused = agent.post(path, Map.of("sources", Map.of("vscode", 7, "agent", 1)));
        assertThat(refused.status()).as("%s", refused).isEqualTo(404);
        assertThat(refused.json().get("detail").asText()).contains("valid for one build only");
        assertThat(activity.activity(id)).as("the refused beat was not taken").isEqualTo(before);

        JsonNode stopped = admin.awaitStatus(id, "STOPPED");
        assertThat(stopped.get("buildNumber").asLong()).isEqualTo(2);
        assertThat(activity.activity(id)).isEqualTo(before);
        assertThat(eventTypes(id)).containsExactly("WorkspaceCreatedEvent", "WorkspaceTransitionStartedEvent",
                "WorkspaceTransitionSucceededEvent", "WorkspaceTransitionStartedEvent", "WorkspaceTransitionSucceededEvent");
        assertThat(agent.post(path, Map.of("source", "ssh", "connections", 0)).status()).isEqualTo(404);
        ApiClient next = client(agentTokens.issue(id, 2));
        ApiClient.Response stoppedBeat = next.post(path, Map.of("source", "ssh", "connections", 0));
        assertThat(stoppedBeat.status()).as("the current build of a stopped workspace").isEqualTo(409);
        assertThat(stoppedBeat.json().get("detail").asText()).contains("is STOPPED");
    }

    @Test
    void anEventAnotherNodeAppendedIsNotLostByACommandOnTheCachedAggregate() {
        String id = runningWorkspace("out-of-band");
        assertThat(workspaceCache.containsKey(id)).as("held since it was created: the saga's completion found it there")
                .isTrue();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        commands.sendAndWait(new ExtendWorkspaceCommand(id, now.plus(Duration.ofHours(1)), Actor.user("admin")));

        // Another node extends the workspace: its event is in the store, this node's cache does not know it.
        long last = eventStore.lastSequenceNumberFor(id).orElseThrow();
        Instant elsewhere = now.plus(Duration.ofHours(2));
        eventStore.publish(new GenericDomainEventMessage<>("Workspace", id, last + 1,
                new WorkspaceKeepAliveExtendedEvent(id, 1, elsewhere, Actor.SYSTEM),
                MetaData.with("actorId", "atelier").and("actorType", "SYSTEM")));

        // This node's command runs on its stale cached aggregate, collides with the other node's event at the
        // event store, and is dispatched again on fresh state: the caller sees success and nothing is lost.
        commands.sendAndWait(new ExtendWorkspaceCommand(id, now.plus(Duration.ofHours(3)), Actor.user("admin")));
        assertThat(sequenceNumbers(id)).as("nothing lost, nothing doubled")
                .containsExactlyElementsOf(LongStream.rangeClosed(0, last + 2).boxed().toList());
        assertThat(payloadAt(id, last + 1)).as("the other node's event stays where it was").contains("\"SYSTEM\"");
        assertThat(payloadAt(id, last + 2)).as("this node's, after it").contains("\"admin\"").doesNotContain("\"SYSTEM\"");
        assertThat(state(id).get("keepAliveUntil").asText()).isEqualTo(json.valueToTree(now.plus(Duration.ofHours(3))).asText());

        // Past the retries, a lost race reaches the caller as a ConcurrencyException (the API's 409): a scheduler
        // that always loses shows it, as a command bus whose every dispatch collides would.
        RuntimeException race = new ConcurrencyException("lost");
        CommandRetries.LostRaces retries = new CommandRetries.LostRaces();
        List<Class<? extends Throwable>[]> failures = new java.util.ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            failures.add(new Class[] {ConcurrencyException.class});
            assertThat(retries.scheduleRetry(GenericCommandMessage.asCommandMessage("x"), race, failures, () -> { }))
                    .as("retry %d", i).isTrue();
        }
        failures.add(new Class[] {ConcurrencyException.class});
        assertThat(retries.scheduleRetry(GenericCommandMessage.asCommandMessage("x"), race, failures, () -> { })).isFalse();
        assertThat(retries.scheduleRetry(GenericCommandMessage.asCommandMessage("x"), new IllegalStateException("rule"),
                List.<Class<? extends Throwable>[]>of(new Class[] {IllegalStateException.class}), () -> { }))
                .as("a refusal is an answer, not a race").isFalse();

        // The same through the API: another node's event, then a request on the cached aggregate: retried, 202.
        eventStore.publish(new GenericDomainEventMessage<>("Workspace", id, last + 3,
                new WorkspaceKeepAliveExtendedEvent(id, 1, now.plus(Duration.ofHours(4)), Actor.SYSTEM),
                MetaData.with("actorId", "atelier").and("actorType", "SYSTEM")));
        ApiClient.Response extended = admin.post("/api/v1/workspaces/" + id + "/extend", Map.of("duration", "PT5H"));
        assertThat(extended.status()).as("%s", extended).isEqualTo(202);
        assertThat(sequenceNumbers(id)).containsExactlyElementsOf(LongStream.rangeClosed(0, last + 4).boxed().toList());
    }

    @Test
    void aCompletionOnAnOutOfDateCachedCopyIsNotLost() throws Exception {
        String id = runningWorkspace("stopped-elsewhere");
        assertThat((Object) workspaceCache.get(id)).as("a hit whose version is the event store's is served").isNotNull();
        // Another node stops the workspace: its transition's event is in the store; this node's cached copy still
        // says RUNNING, build 1, and would take the completion of build 2 for a stale one and ignore it.
        long last = eventStore.lastSequenceNumberFor(id).orElseThrow();
        WorkspaceTransitionStartedEvent first = json.readValue(jdbc.queryForObject("""
                        SELECT convert_from(payload, 'UTF8') FROM domainevententry WHERE aggregateidentifier = ?
                        AND payloadtype LIKE '%.WorkspaceTransitionStartedEvent' ORDER BY sequencenumber LIMIT 1""",
                String.class, id), WorkspaceTransitionStartedEvent.class);
        long build = first.buildNumber() + 1;
        eventStore.publish(new GenericDomainEventMessage<>("Workspace", id, last + 1,
                new WorkspaceTransitionStartedEvent(id, build, Transition.STOP, TransitionReason.USER,
                        Actor.user("admin"), first.templateId(), first.templateVersion(), first.provider(),
                        first.resourceId(), false, first.owner(), first.parameters()),
                MetaData.with("actorId", "admin").and("actorType", "USER")));

        // This node's saga stops it at the provider and completes the transition: on the stored state, so it counts.
        JsonNode stopped = admin.awaitStatus(id, "STOPPED");
        assertThat(stopped.get("buildNumber").asLong()).isEqualTo(build);
        assertThat(sequenceNumbers(id)).containsExactlyElementsOf(LongStream.rangeClosed(0, last + 2).boxed().toList());
        assertThat(eventTypes(id).get((int) last + 2)).isEqualTo("WorkspaceTransitionSucceededEvent");
    }

    private String payloadAt(String id, long sequence) {
        return jdbc.queryForObject("SELECT convert_from(payload, 'UTF8') FROM domainevententry WHERE aggregateidentifier = ? "
                + "AND sequencenumber = ?", String.class, id, sequence);
    }

    @Test
    void aRefusalOnTheCachedAggregateIsCheckedAgainstTheStoredState() {
        String id = runningWorkspace("stale-refusal");
        assertThat(workspaceCache.containsKey(id)).isTrue();
        // Another node found the workspace stopped behind the engine's back: its event is in the store, this node's
        // cached copy still says RUNNING and would refuse a start.
        long last = eventStore.lastSequenceNumberFor(id).orElseThrow();
        eventStore.publish(new GenericDomainEventMessage<>("Workspace", id, last + 1,
                new WorkspaceDriftedEvent(id, 1, WorkspaceStatus.RUNNING, WorkspaceStatus.STOPPED, DriftFinding.STOPPED,
                        TransitionReason.SYSTEM, "stopped elsewhere"),
                MetaData.with("actorId", "atelier").and("actorType", "SYSTEM")));

        commands.sendAndWait(new StartWorkspaceCommand(id, TransitionReason.USER, Actor.user("admin")));
        assertThat(sequenceNumbers(id)).as("the start was decided on the stored state and appended after the drift")
                .containsExactlyElementsOf(LongStream.rangeClosed(0, last + 2).boxed().toList());
        assertThat(payloadAt(id, last + 2)).contains("\"START\"");
        admin.awaitStatus(id, "RUNNING");

        // A refusal that stands on the stored state still reaches the caller.
        Throwable refused = catchThrowable(() -> commands.sendAndWait(
                new StartWorkspaceCommand(id, TransitionReason.USER, Actor.user("admin"))));
        assertThat(refused).isInstanceOf(DomainRuleViolation.class).hasMessageContaining("start");
    }

    @Test
    void aLongLivedWorkspaceIsSnapshottedAndLoadsToTheSameState() {
        String id = runningWorkspace("snapshotted");
        Instant start = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        for (int i = 0; i < 100; i++) {
            commands.sendAndWait(new ExtendWorkspaceCommand(id, start.plusSeconds(i), Actor.user("admin")));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> snapshots(id) > 0);
        long snapshotAt = jdbc.queryForObject("SELECT max(sequencenumber) FROM snapshotevententry WHERE aggregateidentifier = ?",
                Long.class, id);
        long last = eventStore.lastSequenceNumberFor(id).orElseThrow();
        // 3 events of the start and 100 extensions: the 100th event (sequence 99) triggered it (snapshot-every 100).
        assertThat(last).isEqualTo(102);
        assertThat(snapshotAt).isEqualTo(99);
        assertThat(jdbc.queryForObject("SELECT payloadrevision FROM snapshotevententry WHERE aggregateidentifier = ?",
                String.class, id)).as("filtered by the aggregate's @Revision").isEqualTo("2");

        JsonNode inMemory = state(id);
        assertThat(workspaceCache.remove(id)).isTrue();
        JsonNode fromSnapshot = state(id);
        assertThat(fromSnapshot).isEqualTo(inMemory);
        assertThat(fromSnapshot.get("status").asText()).isEqualTo("RUNNING");
        assertThat(fromSnapshot.get("keepAliveUntil").asText()).isEqualTo(json.valueToTree(start.plusSeconds(99)).asText());

        // And it still works from there: a stop gets the next build.
        ApiClient.Response stop = admin.post("/api/v1/workspaces/" + id + "/stop", null);
        assertThat(stop.status()).isEqualTo(202);
        assertThat(stop.json().get("buildNumber").asLong()).isEqualTo(2);
        admin.awaitStatus(id, "STOPPED");
    }

    private String runningWorkspace(String name) {
        String templateId = createLocalTemplate(name, "exec sleep 1000");
        String id = admin.post("/api/v1/workspaces", Map.of("name", name, "templateId", templateId)).json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");
        return id;
    }

    /** The aggregate's fields as its snapshot stores them, loaded through its repository (cache, snapshot, events). */
    private JsonNode state(String id) {
        UnitOfWork<?> unitOfWork = DefaultUnitOfWork.startAndGet(null);
        try {
            JsonNode state = axon.repository(Workspace.class).load(id).invoke(workspace -> json.valueToTree(workspace));
            unitOfWork.commit();
            return state;
        } catch (RuntimeException e) {
            unitOfWork.rollback(e);
            throw e;
        }
    }

    private static List<Throwable> causes(Throwable thrown) {
        List<Throwable> chain = new java.util.ArrayList<>();
        for (Throwable t = thrown; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private List<Long> sequenceNumbers(String id) {
        return jdbc.queryForList("SELECT sequencenumber FROM domainevententry WHERE aggregateidentifier = ? "
                + "ORDER BY sequencenumber", Long.class, id);
    }

    private List<String> eventTypes(String id) {
        return jdbc.queryForList("SELECT payloadtype FROM domainevententry WHERE aggregateidentifier = ? "
                + "ORDER BY sequencenumber", String.class, id).stream().map(t -> t.substring(t.lastIndexOf('.') + 1)).toList();
    }

    private long snapshots(String id) {
        return jdbc.queryForObject("SELECT count(*) FROM snapshotevententry WHERE aggregateidentifier = ?", Long.class, id);
    }
}
