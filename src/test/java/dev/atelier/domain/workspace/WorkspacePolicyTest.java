package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.template.LifecyclePolicy;
import dev.atelier.domain.template.TemplateDefinition;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.axonframework.test.matchers.Matchers.andNoMore;
import static org.axonframework.test.matchers.Matchers.exactSequenceOf;
import static org.axonframework.test.matchers.Matchers.matches;
import static org.axonframework.test.matchers.Matchers.payloadsMatching;

/**
 * Automatic stops, dormancy and clean-up, decided by the workspace itself on persistent deadlines. The fixture's
 * clock is controlled; activity (heartbeats, not events) comes from a settable {@link ActivityReader}.
 */
class WorkspacePolicyTest {

    private static final String WS = "ws-1";
    private static final String TPL = "tpl-policy";
    private static final String NO_LIFETIME_TPL = "tpl-no-lifetime";
    private static final Actor ALICE = Actor.user("alice");
    private static final LifecyclePolicy POLICY = new LifecyclePolicy(Duration.ofMinutes(30), Duration.ofHours(8),
            Duration.ofMinutes(10), Duration.ofDays(7), Duration.ofDays(30));
    private static final PolicyDefaults DEFAULTS = new PolicyDefaults(LifecyclePolicy.NONE,
            new LifecyclePolicy(Duration.ofMinutes(15), Duration.ofHours(4), null, null, null), Duration.ofMinutes(5));

    private AggregateTestFixture<Workspace> fixture;
    private final SettableActivity activity = new SettableActivity();

    @BeforeEach
    void setUp() {
        WorkspaceTest.InMemoryTemplateCatalog catalog = new WorkspaceTest.InMemoryTemplateCatalog();
        catalog.publish(TPL, 1, new TemplateDefinition("local", Map.of(), List.of(), POLICY, null));
        catalog.activate(TPL, 1);
        catalog.publish(NO_LIFETIME_TPL, 1, new TemplateDefinition("local", Map.of(), List.of(),
                new LifecyclePolicy(Duration.ofMinutes(30), null, null, null, null), null));
        catalog.activate(NO_LIFETIME_TPL, 1);
        fixture = new AggregateTestFixture<>(Workspace.class);
        fixture.registerInjectableResource(catalog);
        fixture.registerInjectableResource(DEFAULTS);
        fixture.registerInjectableResource(dev.atelier.domain.budget.BudgetGuard.NONE);
        fixture.registerInjectableResource(activity);
    }

    @Test
    void aStartedWorkspaceGetsAnIdleCheckBeforeTheWarningAndALifetimeLimit() {
        fixture.given(created(TPL, WorkspaceKind.HUMAN, null), started(1, Transition.START))
                .when(new CompleteTransitionCommand(WS, 1, "res", Map.of(), null))
                .expectScheduledDeadlineWithName(Duration.ofMinutes(25), Workspace.IDLE_CHECK)
                .expectScheduledDeadlineWithName(Duration.ofHours(8), Workspace.MAX_LIFETIME);
    }

    @Test
    void anUnusedWorkspaceIsWarnedThenStoppedForIdleness() {
        running(TPL)
                .whenTimeElapses(Duration.ofMinutes(31))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceIdleWarningEvent w && w.buildNumber() == 1),
                        matches(e -> e instanceof WorkspaceTransitionStartedEvent s && s.transition() == Transition.STOP
                                && s.reason() == TransitionReason.IDLE && s.actor().equals(Actor.SYSTEM)
                                && s.buildNumber() == 2),
                        andNoMore())));
    }

    @Test
    void theWarningComesBeforeTheStopAndAnnouncesIt() {
        running(TPL)
                .whenTimeElapses(Duration.ofMinutes(26))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceIdleWarningEvent), andNoMore())))
                .expectScheduledDeadlineWithName(Duration.ofMinutes(4), Workspace.IDLE_CHECK);
    }

    @Test
    void activityPostponesTheStop() {
        var given = running(TPL);
        activity.set(fixture.currentTime().plus(Duration.ofMinutes(20)), 0);
        given.whenTimeElapses(Duration.ofMinutes(40))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(andNoMore())));
    }

    @Test
    void aWorkspaceWithAnOpenConnectionIsNeverStoppedForIdleness() {
        var given = running(NO_LIFETIME_TPL);
        activity.set(null, 1);
        given.whenTimeElapses(Duration.ofHours(12))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(andNoMore())));
    }

    @Test
    void theMaximumLifetimeStopsItWhateverTheActivity() {
        var given = running(TPL);
        activity.set(null, 3);
        given.whenTimeElapses(Duration.ofHours(8))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceTransitionStartedEvent s
                                && s.reason() == TransitionReason.MAX_LIFETIME && s.transition() == Transition.STOP),
                        andNoMore())));
    }

    @Test
    void theOwnerCanKeepItAliveButNotPastTheMaximumLifetime() {
        Instant start = fixture.currentTime();
        running(TPL)
                .when(new ExtendWorkspaceCommand(WS, start.plus(Duration.ofHours(9)), ALICE))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(org.hamcrest.Matchers.containsString("maximum lifetime PT8H"));
    }

    @Test
    void aKeepAliveHoldsOffTheIdleStopUntilItEnds() {
        Instant start = fixture.currentTime();
        running(TPL)
                .andGivenCommands(new ExtendWorkspaceCommand(WS, start.plus(Duration.ofHours(2)), ALICE))
                .whenTimeElapses(Duration.ofMinutes(116))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceIdleWarningEvent w
                                && w.stopAt().equals(start.plus(Duration.ofHours(2)))),
                        andNoMore())));
    }

    @Test
    void aStoppedWorkspaceBecomesDormantAndIsDeletedLater() {
        fixture.given(created(TPL, WorkspaceKind.HUMAN, null), started(1, Transition.START), succeeded(1, Transition.START),
                        started(2, Transition.STOP))
                .andGivenCommands(new CompleteTransitionCommand(WS, 2, "res", Map.of(), null))
                .whenTimeElapses(Duration.ofDays(37))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceMarkedDormantEvent d && d.deleteAt() != null),
                        matches(e -> e instanceof WorkspaceTransitionStartedEvent s && s.transition() == Transition.DELETE
                                && s.reason() == TransitionReason.DORMANCY),
                        andNoMore())));
    }

    @Test
    void aWorkspaceStartedAgainIsNeitherMarkedDormantNorDeleted() {
        fixture.given(created(TPL, WorkspaceKind.HUMAN, null), started(1, Transition.START), succeeded(1, Transition.START),
                        started(2, Transition.STOP))
                .andGivenCommands(new CompleteTransitionCommand(WS, 2, "res", Map.of(), null),
                        new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                .whenTimeElapses(Duration.ofDays(40))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(andNoMore())));
    }

    @Test
    void aFailedWorkspaceIsStoppedAfterAWhile() {
        fixture.given(created(TPL, WorkspaceKind.HUMAN, null), started(1, Transition.START))
                .andGivenCommands(new FailTransitionCommand(WS, 1, "image not found"))
                .whenTimeElapses(Duration.ofMinutes(10))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceTransitionStartedEvent s && s.transition() == Transition.STOP
                                && s.reason() == TransitionReason.SYSTEM),
                        andNoMore())));
    }

    @Test
    void agentWorkspacesGetTheShortAgentDefaults() {
        fixture.given(created("tpl-none", WorkspaceKind.AGENT, null), started(1, Transition.START))
                .when(new CompleteTransitionCommand(WS, 1, "res", Map.of(), null))
                .expectScheduledDeadlineWithName(Duration.ofMinutes(10), Workspace.IDLE_CHECK)
                .expectScheduledDeadlineWithName(Duration.ofHours(4), Workspace.MAX_LIFETIME);
    }

    @Test
    void aWorkspaceMayTightenButNotLoosenItsTemplatesPolicy() {
        fixture.given()
                .when(new CreateWorkspaceCommand(WS, "w", "alice", null, WorkspaceKind.HUMAN, TPL, null, Map.of(),
                        Map.of(), new PolicyOverrides(Duration.ofHours(2), null), TransitionReason.USER, ALICE))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(org.hamcrest.Matchers.containsString("policy.idleTimeout PT2H exceeds the template's PT30M"));
    }

    @Test
    void aTightenedIdleTimeoutIsUsed() {
        fixture.given(created(TPL, WorkspaceKind.HUMAN, new PolicyOverrides(Duration.ofMinutes(10), null)),
                        started(1, Transition.START))
                .when(new CompleteTransitionCommand(WS, 1, "res", Map.of(), null))
                .expectScheduledDeadlineWithName(Duration.ofMinutes(5), Workspace.IDLE_CHECK);
    }

    @Test
    void checksOfAnEarlierBuildAreIgnored() {
        running(TPL)
                .andGivenCommands(new StopWorkspaceCommand(WS, TransitionReason.USER, ALICE),
                        new CompleteTransitionCommand(WS, 2, "res", Map.of(), null),
                        new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                .whenTimeElapses(Duration.ofHours(9))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(andNoMore())));
    }

    private org.axonframework.test.aggregate.TestExecutor<Workspace> running(String template) {
        return fixture.given(created(template, WorkspaceKind.HUMAN, null), started(1, Transition.START))
                .andGivenCommands(new CompleteTransitionCommand(WS, 1, "res", Map.of(), null));
    }

    private static WorkspaceCreatedEvent created(String template, WorkspaceKind kind, PolicyOverrides overrides) {
        return new WorkspaceCreatedEvent(WS, "w", "alice", null, kind, template, 1, "local", Map.of(), Map.of(), ALICE,
                overrides);
    }

    private static WorkspaceTransitionStartedEvent started(long build, Transition transition) {
        return new WorkspaceTransitionStartedEvent(WS, build, transition, TransitionReason.USER, ALICE, TPL, 1, "local",
                build == 1 ? null : "res", false, "alice", Map.of());
    }

    private static WorkspaceTransitionSucceededEvent succeeded(long build, Transition transition) {
        return new WorkspaceTransitionSucceededEvent(WS, build, transition, "res", Map.of(), false, null);
    }

    /** Heartbeats as the idle read model would report them. */
    static final class SettableActivity implements ActivityReader {
        private Activity current = Activity.NONE;

        void set(Instant lastActivityAt, int openConnections) {
            current = new Activity(lastActivityAt, openConnections);
        }

        @Override
        public Activity activity(String workspaceId) {
            return current;
        }
    }

}
