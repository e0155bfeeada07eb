package dev.atelier.domain.budget;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.axonframework.test.matchers.Matchers.andNoMore;
import static org.axonframework.test.matchers.Matchers.exactSequenceOf;
import static org.axonframework.test.matchers.Matchers.matches;
import static org.axonframework.test.matchers.Matchers.payloadsMatching;
import static org.hamcrest.Matchers.containsString;

/**
 * The Budget aggregate: thresholds announced once per period, a raise releases a used-up budget, validation. The
 * scope's spend comes from a settable {@link SpendReader}; the fixture's clock decides the current month.
 */
class BudgetTest {

    private static final String ID = "team:platform";
    private static final Actor FIONA = Actor.user("fiona");
    private static final BigDecimal TEN = new BigDecimal("10.00");

    private AggregateTestFixture<Budget> fixture;
    private final SettableSpend spend = new SettableSpend();

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Budget.class);
        fixture.registerInjectableResource(spend);
    }

    private String month() {
        return BudgetPeriod.monthOf(fixture.currentTime()).toString();
    }

    private static SetBudgetCommand set(String amount, BudgetAction action) {
        return new SetBudgetCommand(ID, BudgetScope.TEAM, "platform", new BigDecimal(amount), "eur", BudgetPeriod.MONTH,
                action, FIONA);
    }

    private BudgetSetEvent created(BudgetAction action) {
        return new BudgetSetEvent(ID, BudgetScope.TEAM, "platform", TEN, "EUR", BudgetPeriod.MONTH, action, null,
                BigDecimal.ZERO, month(), 0, FIONA);
    }

    private BudgetThresholdCrossedEvent crossed(int percent, String period, BudgetAction action) {
        return new BudgetThresholdCrossedEvent(ID, BudgetScope.TEAM, "platform", period, percent,
                new BigDecimal("10.50"), TEN, "EUR", action, fixture.currentTime());
    }

    @Test
    void aNewBudgetIsSetAndReadsTheSpendOfItsScopeSinceTheStartOfTheMonth() {
        spend.amount = new BigDecimal("1.00");
        fixture.givenNoPriorActivity()
                .when(set("10.00", BudgetAction.STOP))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetSetEvent s && s.currency().equals("EUR")
                                && s.previousAmount() == null && s.spent().compareTo(BigDecimal.ONE) == 0
                                && s.crossedPercent() == 0),
                        andNoMore())));
        assertThat(spend.calls).singleElement().satisfies(call -> {
            assertThat(call.scope()).isEqualTo(BudgetScope.TEAM);
            assertThat(call.name()).isEqualTo("platform");
            assertThat(call.currency()).isEqualTo("EUR");
            assertThat(call.from()).isEqualTo(BudgetPeriod.start(YearMonth.parse(month())));
        });
    }

    @Test
    void eightyAndOneHundredPercentAreAnnouncedOncePerPeriod() {
        spend.amount = new BigDecimal("8.00");
        fixture.given(created(BudgetAction.NOTIFY))
                .when(new CheckBudgetCommand(ID))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetThresholdCrossedEvent c && c.percent() == 80
                                && c.period().equals(month()) && c.spent().compareTo(new BigDecimal("8")) == 0),
                        andNoMore())));

        spend.amount = new BigDecimal("9.99");
        fixture.given(created(BudgetAction.NOTIFY), crossed(80, month(), BudgetAction.NOTIFY))
                .when(new CheckBudgetCommand(ID))
                .expectNoEvents();

        spend.amount = new BigDecimal("10.00");
        fixture.given(created(BudgetAction.NOTIFY), crossed(80, month(), BudgetAction.NOTIFY))
                .when(new CheckBudgetCommand(ID))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetThresholdCrossedEvent c && c.percent() == 100),
                        andNoMore())));

        spend.amount = new BigDecimal("25.00");
        fixture.given(created(BudgetAction.NOTIFY), crossed(80, month(), BudgetAction.NOTIFY),
                        crossed(100, month(), BudgetAction.NOTIFY))
                .when(new CheckBudgetCommand(ID))
                .expectNoEvents();
    }

    @Test
    void bothThresholdsAtOnceAreAnnouncedInOrder() {
        spend.amount = new BigDecimal("12.00");
        fixture.given(created(BudgetAction.STOP))
                .when(new CheckBudgetCommand(ID))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetThresholdCrossedEvent c && c.percent() == 80),
                        matches(e -> e instanceof BudgetThresholdCrossedEvent c && c.percent() == 100
                                && c.action() == BudgetAction.STOP),
                        andNoMore())));
    }

    @Test
    void aNewPeriodStartsAfresh() {
        spend.amount = new BigDecimal("9.00");
        String lastMonth = YearMonth.parse(month()).minusMonths(1).toString();
        fixture.given(created(BudgetAction.STOP), crossed(80, lastMonth, BudgetAction.STOP),
                        crossed(100, lastMonth, BudgetAction.STOP))
                .when(new CheckBudgetCommand(ID))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetThresholdCrossedEvent c && c.percent() == 80
                                && c.period().equals(month())),
                        andNoMore())));
    }

    @Test
    void raisingAUsedUpBudgetAboveTheSpendReleasesIt() {
        spend.amount = new BigDecimal("10.50");
        fixture.given(created(BudgetAction.STOP), crossed(80, month(), BudgetAction.STOP),
                        crossed(100, month(), BudgetAction.STOP))
                .when(set("12", BudgetAction.STOP))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        // 10.50 of 12 is still above 80 %: that crossing stands and is not announced again.
                        matches(e -> e instanceof BudgetSetEvent s && s.previousAmount().compareTo(TEN) == 0
                                && s.amount().compareTo(new BigDecimal("12")) == 0 && s.crossedPercent() == 80),
                        matches(e -> e instanceof BudgetReleasedEvent r && r.why().equals("raised to 12 EUR")
                                && r.period().equals(month())),
                        andNoMore())));
    }

    @Test
    void raisingItTooLittleKeepsItUsedUp() {
        spend.amount = new BigDecimal("10.50");
        fixture.given(created(BudgetAction.STOP), crossed(80, month(), BudgetAction.STOP),
                        crossed(100, month(), BudgetAction.STOP))
                .when(set("10.25", BudgetAction.STOP))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetSetEvent s && s.crossedPercent() == 100),
                        andNoMore())));
    }

    @Test
    void switchingToNotifyReleasesItToo() {
        spend.amount = new BigDecimal("10.50");
        fixture.given(created(BudgetAction.STOP), crossed(80, month(), BudgetAction.STOP),
                        crossed(100, month(), BudgetAction.STOP))
                .when(set("10.00", BudgetAction.NOTIFY))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetSetEvent s && s.action() == BudgetAction.NOTIFY),
                        matches(e -> e instanceof BudgetReleasedEvent r && r.why().equals("action changed to notify")),
                        andNoMore())));
    }

    @Test
    void loweringItBelowTheSpendAnnouncesTheCrossingAtOnce() {
        spend.amount = new BigDecimal("9.00");
        fixture.given(created(BudgetAction.STOP), crossed(80, month(), BudgetAction.STOP))
                .when(set("9", BudgetAction.STOP))
                .expectEventsMatching(payloadsMatching(exactSequenceOf(
                        matches(e -> e instanceof BudgetSetEvent s && s.crossedPercent() == 80),
                        matches(e -> e instanceof BudgetThresholdCrossedEvent c && c.percent() == 100),
                        andNoMore())));
    }

    @Test
    void settingTheSameBudgetAgainChangesNothing() {
        fixture.given(created(BudgetAction.STOP))
                .when(set("10", BudgetAction.STOP))
                .expectNoEvents();
    }

    @Test
    void invalidBudgetsAreRefusedWithAReason() {
        fixture.givenNoPriorActivity().when(set("-1", BudgetAction.STOP))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(containsString("amount must be a positive amount"));
        setUp();
        fixture.givenNoPriorActivity()
                .when(new SetBudgetCommand(ID, BudgetScope.TEAM, "platform", TEN, "EURO", BudgetPeriod.MONTH,
                        BudgetAction.STOP, FIONA))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(containsString("'EURO' is not an ISO 4217 code"));
        setUp();
        fixture.givenNoPriorActivity()
                .when(new SetBudgetCommand("owner:platform", BudgetScope.TEAM, "platform", TEN, "EUR",
                        BudgetPeriod.MONTH, BudgetAction.STOP, FIONA))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(containsString("budget id must be team:platform"));
        setUp();
        fixture.givenNoPriorActivity()
                .when(new SetBudgetCommand(ID, BudgetScope.TEAM, "platform", TEN, "EUR", BudgetPeriod.MONTH, null,
                        FIONA))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(containsString("action is required"));
    }

    record Call(BudgetScope scope, String name, String currency, Instant from, Instant to) {
    }

    static final class SettableSpend implements SpendReader {
        BigDecimal amount = BigDecimal.ZERO;
        final List<Call> calls = new ArrayList<>();

        @Override
        public BigDecimal spent(BudgetScope scope, String name, String currency, Instant from, Instant to) {
            calls.add(new Call(scope, name, currency, from, to));
            return amount;
        }
    }
}
