package dev.atelier.domain.workspace;

import dev.atelier.domain.budget.BudgetGuard;
import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.template.TemplateDefinition;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.axonframework.test.matchers.Matchers.andNoMore;
import static org.axonframework.test.matchers.Matchers.exactSequenceOf;
import static org.axonframework.test.matchers.Matchers.matches;
import static org.axonframework.test.matchers.Matchers.payloadsMatching;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;

/** The Workspace aggregate refuses starts and creates while a used-up budget of its owner or team blocks them. */
class WorkspaceBudgetTest {

    private static final String WS = "ws-1";
    private static final String TPL = "tpl-1";
    private static final Actor ALICE = Actor.user("alice");

    private AggregateTestFixture<Workspace> fixture;
    private final SettableGuard guard = new SettableGuard();

    @BeforeEach
    void setUp() {
        WorkspaceTest.InMemoryTemplateCatalog catalog = new WorkspaceTest.InMemoryTemplateCatalog();
        catalog.publish(TPL, 1, new TemplateDefinition("local", Map.of(), List.of(), null, null));
        catalog.activate(TPL, 1);
        fixture = new AggregateTestFixture<>(Workspace.class);
        fixture.registerInjectableResource(catalog);
        fixture.registerInjectableResource(PolicyDefaults.NONE);
        fixture.registerInjectableResource(guard);
    }

    private WorkspaceCreatedEvent created() {
        return new WorkspaceCreatedEvent(WS, "dev", "alice", "platform", WorkspaceKind.HUMAN, TPL, 1, "local", Map.of(),
                Map.of(), ALICE, null);
    }

    private static WorkspaceTransitionStartedEvent started(long build, Transition transition) {
        return new WorkspaceTransitionStartedEvent(WS, build, transition, TransitionReason.USER, ALICE, TPL, 1, "local",
                "res", false, "alice", Map.of());
    }

    private static WorkspaceTransitionSucceededEvent succeeded(long build, Transition transition) {
        return new WorkspaceTransitionSucceededEvent(WS, build, transition, "res", Map.of(), false, null);
    }

    private void blockTeam() {
        guard.block = new BudgetGuard.Block(BudgetScope.TEAM, "platform", new BigDecimal("100"), "EUR",
                YearMonth.from(fixture.currentTime().atZone(java.time.ZoneOffset.UTC)));
    }

    @Test
    void aStoppedWorkspaceOfATeamWithAUsedUpBudgetCannotStart() {
        blockTeam();
        fixture.given(created(), started(1, Transition.START), succeeded(1, Transition.START),
                        started(2, Transition.STOP), succeeded(2, Transition.STOP))
                .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(allOf(containsString("cannot start workspace ws-1"),
                        containsString("the budget of team 'platform' (100 EUR per month, action stop) is used up"),
                        containsString("until the budget is raised")));
        assertThat(guard.asked).singleElement().isEqualTo(List.of("alice", "platform"));
    }

    @Test
    void automaticStartsAreRefusedToo() {
        blockTeam();
        fixture.given(created(), started(1, Transition.START), succeeded(1, Transition.START),
                        started(2, Transition.STOP), succeeded(2, Transition.STOP))
                .when(new StartWorkspaceCommand(WS, TransitionReason.AUTOSTART, Actor.SYSTEM))
                .expectException(DomainRuleViolation.class);
    }

    @Test
    void noWorkspaceIsCreatedInABlockedScope() {
        blockTeam();
        fixture.givenNoPriorActivity()
                .when(new CreateWorkspaceCommand(WS, "dev", "alice", "platform", WorkspaceKind.HUMAN, TPL, null,
                        Map.of(), Map.of(), null, TransitionReason.USER, ALICE))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(containsString("cannot create workspace 'dev': the budget of team 'platform'"));
    }

    @Test
    void theBudgetStopsARunningWorkspaceAsTheEngine() {
        blockTeam();
        fixture.given(created(), started(1, Transition.START), succeeded(1, Transition.START))
                .when(new StopWorkspaceCommand(WS, TransitionReason.BUDGET, Actor.SYSTEM))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceTransitionStartedEvent s && s.transition() == Transition.STOP
                                && s.reason() == TransitionReason.BUDGET && s.actor().equals(Actor.SYSTEM)),
                        andNoMore())));
    }

    @Test
    void startsGoThroughOnceTheBudgetNoLongerBlocks() {
        fixture.given(created(), started(1, Transition.START), succeeded(1, Transition.START),
                        started(2, Transition.STOP), succeeded(2, Transition.STOP))
                .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof WorkspaceTransitionStartedEvent s && s.transition() == Transition.START
                                && s.buildNumber() == 3),
                        andNoMore())));
    }

    static final class SettableGuard implements BudgetGuard {
        Block block;
        final List<List<String>> asked = new ArrayList<>();

        @Override
        public Optional<Block> blocking(String owner, String team, Instant at) {
            asked.add(List.of(owner, team));
            return Optional.ofNullable(block);
        }
    }
}
