package dev.atelier.lifecycle;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.workspace.CompleteTransitionCommand;
import dev.atelier.domain.workspace.FailTransitionCommand;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProviderRegistry;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.test.saga.SagaTestFixture;
import org.hamcrest.Matcher;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.test.util.ReflectionTestUtils;
import dev.atelier.security.AgentTokens;
import org.mockito.ArgumentCaptor;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.axonframework.test.matchers.Matchers.exactSequenceOf;
import static org.axonframework.test.matchers.Matchers.messageWithPayload;
import static org.axonframework.test.matchers.Matchers.payloadsMatching;
import static org.axonframework.test.matchers.Matchers.predicate;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

class WorkspaceTransitionSagaTest {

    private static final String WS = "ws-42";
    private static final String TEMPLATE = "tpl-python";
    private static final int TEMPLATE_VERSION = 3;
    private static final Map<String, Object> SPEC = Map.of("image", "python:3.12");
    private static final Map<String, String> PARAMS = Map.of("cpu", "2");

    private static final AgentTokens AGENT_TOKENS = new AgentTokens(new byte[32]);
    private static final WorkspaceAgents AGENTS = new WorkspaceAgents(AGENT_TOKENS,
            new WorkspaceAgents.Settings("http://engine.internal:8080", Duration.ofSeconds(30), "ssh:22"),
            new MockEnvironment(), null);
    private static final TransitionSettings SETTINGS = new TransitionSettings(Duration.ofMinutes(1), 3,
            Duration.ofSeconds(2), 2.0, Duration.ofSeconds(10), Duration.ofSeconds(2));

    private static final String TIMEOUT = WorkspaceTransitionSaga.TIMEOUT;
    private static final String POLL = WorkspaceTransitionSaga.POLL;
    private static final String RETRY = WorkspaceTransitionSaga.RETRY;

    private ScriptedProvider provider;
    private io.micrometer.core.instrument.simple.SimpleMeterRegistry meters;
    private SagaTestFixture<WorkspaceTransitionSaga> fixture;

    @BeforeEach
    void setUp() {
        provider = new ScriptedProvider("scripted");
        meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        fixture = fixture(SETTINGS);
    }

    private SagaTestFixture<WorkspaceTransitionSaga> fixture(TransitionSettings settings) {
        SagaTestFixture<WorkspaceTransitionSaga> f = new SagaTestFixture<>(WorkspaceTransitionSaga.class);
        // The fixture already registers its RecordingCommandBus, a DefaultCommandGateway on that bus and a
        // StubDeadlineManager as resources; the saga's other @Autowired fields are supplied here.
        f.registerResource(new ProviderRegistry(List.of(provider)));
        f.registerResource(new InMemoryTemplates());
        f.registerResource(settings);
        f.registerResource(AGENTS);
        f.registerResource(new dev.atelier.metrics.TransitionMetrics(meters));
        f.registerResource(org.axonframework.tracing.NoOpSpanFactory.INSTANCE);
        return f;
    }

    // ---------------------------------------------------------------- 1. success

    @Test
    void startWithoutResourceCreatesItCompletesAndSchedulesTimeout() {
        provider.answer(() -> ProviderOperation.done("res-1", Map.of("url", "https://ws-42")));

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(1, Transition.START, null, false))
                .expectActiveSagas(1)
                .expectAssociationWith("workspaceId", WS)
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 1, "res-1",
                        Map.of("url", "https://ws-42"), null))
                .expectScheduledDeadlineWithName(Duration.ofMinutes(1), TIMEOUT)
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(2), POLL)
                .expectSuccessfulHandlerExecution();

        assertThat(provider.calls).hasSize(1);
        Call call = provider.calls.get(0);
        assertThat(call.operation()).isEqualTo("create");
        assertThat(call.workspaceId()).isEqualTo(WS);
        assertThat(call.buildNumber()).isEqualTo(1);
        assertThat(call.idempotencyKey()).isEqualTo(WS + "-1");
        assertThat(call.resourceId()).isNull();
        assertThat(call.labels()).containsExactlyInAnyOrderEntriesOf(
                Map.of("atelier-workspace-id", WS, "atelier-build", "1"));
        assertThat(call.request().owner()).isEqualTo("alice");
        assertThat(call.request().spec()).isEqualTo(SPEC);
        assertThat(call.request().parameters()).isEqualTo(PARAMS);
        assertThat(call.request().agent().environment())
                .containsEntry("ATELIER_URL", "http://engine.internal:8080")
                .containsEntry("ATELIER_WORKSPACE_ID", WS)
                .containsEntry("ATELIER_AGENT_TOKEN", AGENT_TOKENS.issue(WS, 1));
        assertThat(call.request().agent().script()).startsWith("#!/bin/sh").contains("/activity");
        assertThat(call.request().agent().toString()).doesNotContain(AGENT_TOKENS.issue(WS, 1));
    }

    @Test
    void onlyStartsCarryTheAgent() {
        provider.answer(() -> ProviderOperation.done("res-1", Map.of()));

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(2, Transition.STOP, "res-1", false))
                .expectSuccessfulHandlerExecution();

        assertThat(provider.calls).singleElement().satisfies(call -> assertThat(call.request().agent()).isNull());
    }

    @Test
    void succeededEventOfItsBuildEndsSagaAndCancelsTimeout() {
        provider.answer(() -> ProviderOperation.done("res-1", Map.of()));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenPublishingA(succeeded(1, Transition.START))
                .expectActiveSagas(0)
                .expectNoScheduledDeadlines()
                .expectNoDispatchedCommands();
    }

    @Test
    void succeededEventWhileStillPollingCancelsPollAndTimeout() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenPublishingA(succeeded(1, Transition.START))
                .expectActiveSagas(0)
                .expectNoScheduledDeadlines();
    }

    @Test
    void anEndedTransitionIsTimedByProviderKindAndOutcomeAndAPolicyStopIsCounted() throws Exception {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));
        WorkspaceTransitionStartedEvent idleStop = new WorkspaceTransitionStartedEvent(WS, 2, Transition.STOP,
                TransitionReason.IDLE, Actor.SYSTEM, TEMPLATE, TEMPLATE_VERSION, "scripted", "res-1", false, "alice",
                PARAMS);

        fixture.givenAPublished(idleStop)
                .andThenTimeElapses(Duration.ofSeconds(7))
                .whenPublishingA(new WorkspaceTransitionFailedEvent(WS, 2, Transition.STOP, "nope"))
                .expectActiveSagas(0);

        var timer = meters.find("atelier.transition").tags("provider", "scripted", "kind", "stop", "outcome", "failed")
                .timer();
        assertThat(timer).isNotNull();
        assertThat(timer.count()).isEqualTo(1);
        assertThat(timer.totalTime(java.util.concurrent.TimeUnit.SECONDS)).isCloseTo(7.0, org.assertj.core.data.Offset.offset(0.01));
        assertThat(meters.find("atelier.transition").tags("outcome", "succeeded").timer()).isNull();
        assertThat(meters.get("atelier.stops").tag("reason", "idle").counter().count()).isEqualTo(1.0);
        assertThat(meters.get("atelier.stops").tag("reason", "budget").counter().count()).isZero();
    }

    @Test
    void aStopAskedForByAPersonIsNoPolicyStop() {
        provider.answer(() -> ProviderOperation.done("res-1", Map.of()));

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(2, Transition.STOP, "res-1", false))
                .expectSuccessfulHandlerExecution();

        assertThat(meters.find("atelier.stops").counters()).allSatisfy(c -> assertThat(c.count()).isZero());
    }

    @Test
    void failedEventOfItsBuildEndsSaga() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenPublishingA(new WorkspaceTransitionFailedEvent(WS, 1, Transition.START, "nope"))
                .expectActiveSagas(0)
                .expectNoScheduledDeadlines();
    }

    @Test
    void outcomeOfAnotherBuildDoesNotEndSaga() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));

        fixture.givenAPublished(started(2, Transition.START, null, false))
                .whenPublishingA(succeeded(1, Transition.START))
                .expectActiveSagas(1)
                .expectScheduledDeadlineWithName(Duration.ofMinutes(1), TIMEOUT)
                .expectScheduledDeadlineWithName(Duration.ofSeconds(5), POLL);
    }

    // ---------------------------------------------------------------- 2. operation choice

    @ParameterizedTest(name = "{0} with resource {1} calls {2}")
    @CsvSource(nullValues = "null", value = {
            "START,  res-1, start",
            "STOP,   res-1, stop",
            "DELETE, res-1, delete",
            "DELETE, null,  delete"})
    void transitionSelectsProviderOperation(Transition transition, String resourceId, String expectedOperation) {
        provider.answer(() -> ProviderOperation.done(null, Map.of()));

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(5, transition, resourceId, false))
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 5, resourceId, Map.of(), null));

        assertThat(provider.calls).extracting(Call::operation).containsExactly(expectedOperation);
        assertThat(provider.calls.get(0).resourceId()).isEqualTo(resourceId);
        assertThat(provider.calls.get(0).idempotencyKey()).isEqualTo(WS + "-5");
    }

    // ---------------------------------------------------------------- 3. slow operation

    @Test
    void inProgressSchedulesPollAndDispatchesNothingYet() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(1, Transition.START, null, false))
                .expectNoDispatchedCommands()
                .expectActiveSagas(1)
                .expectScheduledDeadlineWithName(Duration.ofSeconds(5), POLL)
                .expectScheduledDeadlineWithName(Duration.ofMinutes(1), TIMEOUT);
    }

    @Test
    void pollAfterElapsedCompletesWithResourceFromFirstAnswer() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)))
                .answer(() -> ProviderOperation.done(null, Map.of("ssh", "ssh://ws-42")));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(5))
                .expectTriggeredDeadlinesWithName(POLL)
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 1, "res-1",
                        Map.of("ssh", "ssh://ws-42"), null))
                .expectScheduledDeadlineWithName(Duration.ofSeconds(55), TIMEOUT);

        assertThat(provider.calls).extracting(Call::operation).containsExactly("create", "poll");
        Call poll = provider.calls.get(1);
        assertThat(poll.operationId()).isEqualTo("op-1");
        assertThat(poll.resourceId()).as("poll sees the resource the provider reported").isEqualTo("res-1");
        assertThat(poll.idempotencyKey()).isEqualTo(WS + "-1");
    }

    @Test
    void pollBeforeItsTimeDoesNothing() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(4))
                .expectNoDispatchedCommands()
                .expectTriggeredDeadlinesWithName();

        assertThat(provider.calls).extracting(Call::operation).containsExactly("create");
    }

    @Test
    void repeatedInProgressKeepsPollingWithLatestOperationId() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)))
                .answer(() -> ProviderOperation.inProgress(null, "op-2", Duration.ofSeconds(3)))
                .answer(() -> ProviderOperation.done(null, Map.of()));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(8))
                .expectTriggeredDeadlinesWithName(POLL, POLL)
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 1, "res-1", Map.of(), null));

        assertThat(provider.calls).extracting(Call::operationId).containsExactly(null, "op-1", "op-2");
    }

    @Test
    void inProgressWithoutPollAfterUsesDefaultPollInterval() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", null));

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(1, Transition.START, null, false))
                .expectScheduledDeadlineWithName(Duration.ofSeconds(2), POLL)
                .expectNoDispatchedCommands();
    }

    // ---------------------------------------------------------------- 4. permanent failure

    @Test
    void permanentProviderErrorFailsTransitionWithItsMessage() {
        provider.answer(() -> {
            throw ProviderException.permanent("image python:3.12 not found");
        });

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(1, Transition.START, null, false))
                .expectDispatchedCommands(new FailTransitionCommand(WS, 1, "image python:3.12 not found"))
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(2), RETRY);

        assertThat(provider.calls).hasSize(1);
    }

    @Test
    void permanentErrorWhilePollingFailsTransition() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)))
                .answer(() -> {
                    throw ProviderException.permanent("quota exceeded");
                });

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(5))
                .expectDispatchedCommands(new FailTransitionCommand(WS, 1, "quota exceeded"));
    }

    @Test
    void unknownTemplateVersionFailsTransition() {
        fixture.givenNoPriorActivity()
                .whenPublishingA(new WorkspaceTransitionStartedEvent(WS, 1, Transition.START, TransitionReason.USER,
                        Actor.user("alice"), TEMPLATE, 99, "scripted", null, false, "alice", PARAMS))
                .expectDispatchedCommands(new FailTransitionCommand(WS, 1,
                        "template " + TEMPLATE + " version 99 is not available"));

        assertThat(provider.calls).isEmpty();
    }

    @Test
    void providerNotEnabledFailsTransition() {
        fixture.givenNoPriorActivity()
                .whenPublishingA(new WorkspaceTransitionStartedEvent(WS, 1, Transition.START, TransitionReason.USER,
                        Actor.user("alice"), TEMPLATE, TEMPLATE_VERSION, "docker", null, false, "alice", PARAMS))
                .expectDispatchedCommandsMatching(onlyCommand(FailTransitionCommand.class,
                        c -> c.buildNumber() == 1 && c.error().startsWith("provider 'docker' is not enabled")));

        assertThat(provider.calls).isEmpty();
    }

    // ---------------------------------------------------------------- 5. retryable failure, then success

    @Test
    void retryableErrorSchedulesRetryWithInitialBackoff() {
        provider.answer(ScriptedProvider::busy);

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(1, Transition.START, null, false))
                .expectNoDispatchedCommands()
                .expectScheduledDeadlineWithName(Duration.ofSeconds(2), RETRY)
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(2), POLL)
                .expectScheduledDeadlineWithName(Duration.ofMinutes(1), TIMEOUT);
    }

    @Test
    void retryAfterBackoffCallsProviderAgainWithSameIdempotencyKey() {
        provider.answer(ScriptedProvider::busy)
                .answer(() -> ProviderOperation.done("res-1", Map.of()));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(2))
                .expectTriggeredDeadlinesWithName(RETRY)
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 1, "res-1", Map.of(), null));

        assertThat(provider.calls).hasSize(2);
        assertThat(provider.calls).extracting(Call::operation).containsExactly("create", "create");
        assertThat(provider.calls).extracting(Call::idempotencyKey).containsOnly(WS + "-1");
    }

    @Test
    void secondRetryWaitsTwiceAsLong() {
        provider.answer(ScriptedProvider::busy).answer(ScriptedProvider::busy);

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(2))
                .expectNoDispatchedCommands()
                .expectScheduledDeadlineWithName(Duration.ofSeconds(4), RETRY)
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(2), RETRY);

        assertThat(provider.calls).hasSize(2);
    }

    @Test
    void backoffIsCappedAtMaxBackoff() {
        fixture = fixture(new TransitionSettings(Duration.ofMinutes(10), 10, Duration.ofSeconds(2), 2.0,
                Duration.ofSeconds(10), Duration.ofSeconds(2)));
        for (int i = 0; i < 4; i++) {
            provider.answer(ScriptedProvider::busy);
        }

        // failures at t=0 (retry in 2s), t=2 (4s), t=6 (8s), t=14 (16s capped to 10s)
        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(14))
                .expectTriggeredDeadlinesWithName(RETRY, RETRY, RETRY)
                .expectScheduledDeadlineWithName(Duration.ofSeconds(10), RETRY)
                .expectNoDispatchedCommands();

        assertThat(provider.calls).hasSize(4);
    }

    @Test
    void retryableErrorWhilePollingRetriesThePoll() {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)))
                .answer(ScriptedProvider::busy)
                .answer(() -> ProviderOperation.done(null, Map.of()));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(7))
                .expectTriggeredDeadlinesWithName(POLL, RETRY)
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 1, "res-1", Map.of(), null));

        assertThat(provider.calls).extracting(Call::operation).containsExactly("create", "poll", "poll");
        assertThat(provider.calls.get(2).operationId()).isEqualTo("op-1");
    }

    // ---------------------------------------------------------------- 6. retries exhausted

    @Test
    void retryableErrorUntilMaxAttemptsGivesUp() throws Exception {
        provider.answer(ScriptedProvider::busy).answer(ScriptedProvider::busy).answer(ScriptedProvider::busy);

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .andThenTimeElapses(Duration.ofSeconds(2))
                .whenTimeElapses(Duration.ofSeconds(4))
                .expectDispatchedCommands(new FailTransitionCommand(WS, 1, "host busy (gave up after 3 attempts)"))
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(8), RETRY);

        assertThat(provider.calls).hasSize(3);
        assertThat(provider.calls).extracting(Call::idempotencyKey).containsOnly(WS + "-1");
    }

    // ---------------------------------------------------------------- 7. timeout

    @Test
    void transitionWithoutOutcomeTimesOut() {
        provider.answerAlways(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofMinutes(1))
                .expectDispatchedCommandsMatching(onlyCommand(FailTransitionCommand.class,
                        c -> c.workspaceId().equals(WS) && c.buildNumber() == 1
                                && c.error().startsWith("timed out")
                                && c.error().contains("PT1M") && c.error().contains("scripted")));

        assertThat(provider.calls.stream().filter(c -> c.operation().equals("poll")).count())
                .as("polled every 5s until the timeout").isGreaterThanOrEqualTo(11);
    }

    @Test
    void nothingTimesOutBeforeTheTimeout() {
        provider.answerAlways(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .whenTimeElapses(Duration.ofSeconds(59))
                .expectNoDispatchedCommands();
    }

    @Test
    void forcedDeleteThatTimesOutStillCompletes() {
        provider.answerAlways(() -> ProviderOperation.inProgress(null, "op-1", Duration.ofSeconds(5)));

        fixture.givenAPublished(started(3, Transition.DELETE, "res-1", true))
                .whenTimeElapses(Duration.ofMinutes(1))
                .expectDispatchedCommandsMatching(onlyCommand(CompleteTransitionCommand.class,
                        c -> c.buildNumber() == 3 && "res-1".equals(c.resourceId())
                                && c.providerError() != null && c.providerError().startsWith("timed out")));
    }

    // ---------------------------------------------------------------- 8. forced delete

    @Test
    void forcedDeleteWhoseProviderFailsCompletesWithProviderError() {
        provider.answer(() -> {
            throw ProviderException.permanent("volume busy");
        });

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(3, Transition.DELETE, "res-1", true))
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 3, "res-1", Map.of(), "volume busy"));

        assertThat(provider.calls).extracting(Call::operation).containsExactly("delete");
    }

    @Test
    void deleteWithoutForceWhoseProviderFailsFails() {
        provider.answer(() -> {
            throw ProviderException.permanent("volume busy");
        });

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(3, Transition.DELETE, "res-1", false))
                .expectDispatchedCommands(new FailTransitionCommand(WS, 3, "volume busy"));
    }

    @Test
    void forceOnlyAppliesToDelete() {
        provider.answer(() -> {
            throw ProviderException.permanent("cannot stop");
        });

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(3, Transition.STOP, "res-1", true))
                .expectDispatchedCommands(new FailTransitionCommand(WS, 3, "cannot stop"));
    }

    // ---------------------------------------------------------------- 9. newer build supersedes

    @Test
    void newerBuildEndsOldSagaAndStartsNewOne() throws Exception {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(30)))
                .answer(() -> ProviderOperation.inProgress(null, "op-2", Duration.ofSeconds(5)));

        // 10s apart, so the old saga's deadlines (timeout due in 50s, poll in 20s) are distinguishable from the new
        // saga's (timeout in 60s, poll in 5s).
        fixture.givenAPublished(started(1, Transition.START, null, false))
                .andThenTimeElapses(Duration.ofSeconds(10))
                .whenPublishingA(started(2, Transition.DELETE, "res-1", false))
                .expectActiveSagas(1)
                .expectAssociationWith("workspaceId", WS)
                .expectNoDispatchedCommands()
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(50), TIMEOUT)
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(20), POLL)
                .expectScheduledDeadlineWithName(Duration.ofMinutes(1), TIMEOUT)
                .expectScheduledDeadlineWithName(Duration.ofSeconds(5), POLL);

        assertThat(provider.calls).extracting(Call::operation).containsExactly("create", "delete");
        assertThat(provider.calls).extracting(Call::idempotencyKey).containsExactly(WS + "-1", WS + "-2");
    }

    @Test
    void afterSupersedingOnlyTheNewBuildIsPolled() throws Exception {
        provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(30)))
                .answer(() -> ProviderOperation.inProgress(null, "op-2", Duration.ofSeconds(5)))
                .answer(() -> ProviderOperation.done(null, Map.of()));

        fixture.givenAPublished(started(1, Transition.START, null, false))
                .andThenTimeElapses(Duration.ofSeconds(10))
                .andThenAPublished(started(2, Transition.DELETE, "res-1", false))
                .whenTimeElapses(Duration.ofSeconds(30))
                .expectTriggeredDeadlinesWithName(POLL)
                .expectDispatchedCommands(new CompleteTransitionCommand(WS, 2, "res-1", Map.of(), null));

        assertThat(provider.calls).extracting(Call::operationId).containsExactly(null, null, "op-2");
        assertThat(provider.calls.get(2).buildNumber()).isEqualTo(2);
    }

    // ---------------------------------------------------------------- 10. unexpected exception

    @Test
    void unexpectedRuntimeExceptionFailsTransition() {
        provider.answer(() -> {
            throw new IllegalStateException("socket closed");
        });

        fixture.givenNoPriorActivity()
                .whenPublishingA(started(1, Transition.START, null, false))
                .expectSuccessfulHandlerExecution()
                .expectActiveSagas(1)
                .expectNoScheduledDeadlineWithName(Duration.ofSeconds(2), RETRY)
                .expectDispatchedCommandsMatching(onlyCommand(FailTransitionCommand.class,
                        c -> c.buildNumber() == 1 && c.error().contains("scripted")
                                && c.error().contains("socket closed")));

        assertThat(provider.calls).hasSize(1);
    }

    // ---------------------------------------------------------------- persistence of saga state

    /**
     * The saga lives in a JDBC saga store serialized with Jackson (axon.serializer.general=jackson) between a
     * provider call and the deadline that polls it. The fixture keeps saga instances in memory, so this is checked
     * directly: the state survives a round trip and the deserialized saga polls the right operation.
     */
    @Nested
    class SerializedState {

        private final CommandGateway gateway = mock(CommandGateway.class);
        private final DeadlineManager deadlines = mock(DeadlineManager.class);

        private void inject(WorkspaceTransitionSaga saga) {
            ReflectionTestUtils.setField(saga, "providers", new ProviderRegistry(List.of(provider)));
            ReflectionTestUtils.setField(saga, "templates", new InMemoryTemplates());
            ReflectionTestUtils.setField(saga, "commandGateway", gateway);
            ReflectionTestUtils.setField(saga, "deadlineManager", deadlines);
            ReflectionTestUtils.setField(saga, "settings", SETTINGS);
            ReflectionTestUtils.setField(saga, "agents", AGENTS);
            ReflectionTestUtils.setField(saga, "metrics", new dev.atelier.metrics.TransitionMetrics(meters));
            ReflectionTestUtils.setField(saga, "spanFactory", org.axonframework.tracing.NoOpSpanFactory.INSTANCE);
        }

        @Test
        void sagaStateSurvivesJacksonRoundTrip() {
            when(deadlines.schedule(any(Duration.class), anyString())).thenReturn("deadline-1", "deadline-2");
            provider.answer(() -> ProviderOperation.inProgress("res-1", "op-1", Duration.ofSeconds(5)))
                    .answer(() -> ProviderOperation.done(null, Map.of("url", "https://ws-42")));
            WorkspaceTransitionSaga saga = new WorkspaceTransitionSaga();
            inject(saga);
            saga.on(started(1, Transition.START, null, false), "req-1", java.time.Instant.now());

            JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
            SerializedObject<String> json = serializer.serialize(saga, String.class);
            assertThat(json.getData())
                    .contains("\"operationId\":\"op-1\"", "\"resourceId\":\"res-1\"", "\"pendingDeadline\":\"deadline-2\"")
                    .doesNotContain("providers", "commandGateway", "deadlineManager", "settings", "templates", "agents", "atw_",
                            "metrics", "spanFactory");

            WorkspaceTransitionSaga restored = serializer.deserialize(json);
            assertThat(restored).usingRecursiveComparison()
                    .ignoringFields("providers", "templates", "commandGateway", "deadlineManager", "settings", "agents",
                            "metrics", "spanFactory")
                    .isEqualTo(saga);

            inject(restored);
            restored.onPoll();
            ArgumentCaptor<Object> sent = ArgumentCaptor.forClass(Object.class);
            verify(gateway).sendAndWait(sent.capture());
            CommandMessage<?> message = (CommandMessage<?>) sent.getValue();
            assertThat(message.getPayload())
                    .isEqualTo(new CompleteTransitionCommand(WS, 1, "res-1", Map.of("url", "https://ws-42"), null));
            // The outcome is the engine's doing, traced back to the request that started the build.
            assertThat(message.getMetaData()).containsEntry("requestId", "req-1").containsEntry("actorType", "SYSTEM");
            assertThat(provider.calls).extracting(Call::operationId).containsExactly(null, "op-1");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static WorkspaceTransitionStartedEvent started(long build, Transition transition, String resourceId,
                                                           boolean force) {
        return new WorkspaceTransitionStartedEvent(WS, build, transition, TransitionReason.USER, Actor.user("alice"),
                TEMPLATE, TEMPLATE_VERSION, "scripted", resourceId, force, "alice", PARAMS);
    }

    private static WorkspaceTransitionSucceededEvent succeeded(long build, Transition transition) {
        return new WorkspaceTransitionSucceededEvent(WS, build, transition, "res-1", Map.of(), false, null);
    }

    /** Exactly one dispatched command, of the given type, satisfying the condition. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static <T> Matcher onlyCommand(Class<T> type, Predicate<T> condition) {
        Matcher<Object> payload = predicate(p -> type.isInstance(p) && condition.test(type.cast(p)));
        return payloadsMatching(exactSequenceOf(payload));
    }

    private record Call(String operation, ProvisionRequest request, String operationId) {
        String workspaceId() {
            return request.workspaceId();
        }

        long buildNumber() {
            return request.buildNumber();
        }

        String idempotencyKey() {
            return request.idempotencyKey();
        }

        String resourceId() {
            return request.resourceId();
        }

        Map<String, String> labels() {
            return request.labels();
        }
    }

    /** A provider that answers from a script, one answer per call, and records every call. */
    private static final class ScriptedProvider implements WorkspaceProvider {

        private final String name;
        private final Deque<Supplier<ProviderOperation>> script = new ArrayDeque<>();
        private Supplier<ProviderOperation> always;
        final List<Call> calls = new ArrayList<>();

        ScriptedProvider(String name) {
            this.name = name;
        }

        static ProviderOperation busy() {
            throw ProviderException.retryable("host busy", null);
        }

        ScriptedProvider answer(Supplier<ProviderOperation> answer) {
            script.add(answer);
            return this;
        }

        ScriptedProvider answerAlways(Supplier<ProviderOperation> answer) {
            always = answer;
            return this;
        }

        private ProviderOperation call(String operation, ProvisionRequest request, String operationId) {
            calls.add(new Call(operation, request, operationId));
            Supplier<ProviderOperation> next = script.poll();
            if (next == null) {
                next = Objects.requireNonNull(always, () -> "unscripted provider call #" + calls.size()
                        + ": " + operation);
            }
            return next.get();
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<String> validateSpec(Map<String, Object> spec) {
            return List.of();
        }

        @Override
        public ProviderOperation create(ProvisionRequest request) {
            return call("create", request, null);
        }

        @Override
        public ProviderOperation start(ProvisionRequest request) {
            return call("start", request, null);
        }

        @Override
        public ProviderOperation stop(ProvisionRequest request) {
            return call("stop", request, null);
        }

        @Override
        public ProviderOperation delete(ProvisionRequest request) {
            return call("delete", request, null);
        }

        @Override
        public ProviderOperation poll(ProvisionRequest request, String operationId) {
            return call("poll", request, operationId);
        }

        @Override
        public ResourceDescription describe(ProvisionRequest request) {
            throw new UnsupportedOperationException("the saga does not describe");
        }

        @Override
        public List<ResourceDescription> inventory(Map<String, String> labels) {
            throw new UnsupportedOperationException("the saga does not take inventory");
        }
    }

    /** One published template version served by the scripted provider. */
    private static final class InMemoryTemplates implements TemplateCatalog {
        @Override
        public Optional<TemplateVersionRef> find(String templateId, Integer version) {
            if (TEMPLATE.equals(templateId) && Integer.valueOf(TEMPLATE_VERSION).equals(version)) {
                return Optional.of(new TemplateVersionRef(TEMPLATE, TEMPLATE_VERSION, false,
                        new TemplateDefinition("scripted", SPEC, List.of(), null, null)));
            }
            return Optional.empty();
        }
    }
}
