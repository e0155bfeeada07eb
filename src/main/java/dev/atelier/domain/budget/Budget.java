package dev.atelier.domain.budget;

import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.YearMonth;
import java.util.Currency;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A spending limit per period for a team's or an owner's workspaces. Its identifier is {@code <scope>:<name>}
 * ({@link #idOf}), so setting a budget for the same scope and name again changes it. Each check compares what
 * the scope spent in the current period (read through {@link SpendReader}) with 80 % and 100 % of the amount and
 * announces each threshold once per period. A budget with {@code action: stop} that is used up blocks starts
 * ({@link BudgetGuard}) until the period ends or the budget is raised.
 */
@Aggregate(cache = "budgetCache")
public class Budget {

    static final List<Integer> THRESHOLDS = List.of(80, 100);
    private static final int MAX_NAME = 100;

    @AggregateIdentifier
    private String budgetId;
    private BudgetScope scope;
    private String name;
    private BigDecimal amount;
    private String currency;
    private BudgetPeriod period;
    private BudgetAction action;
    /** The period whose crossings {@link #crossed} holds. */
    private String trackedPeriod;
    private final TreeSet<Integer> crossed = new TreeSet<>();

    protected Budget() {
    }

    public static String idOf(BudgetScope scope, String name) {
        return scope.id() + ":" + name;
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    public void handle(SetBudgetCommand command, SpendReader spending) {
        validate(command);
        String currencyCode = command.currency().toUpperCase(java.util.Locale.ROOT);
        BudgetPeriod newPeriod = command.period() == null ? BudgetPeriod.MONTH : command.period();
        boolean exists = budgetId != null;
        if (exists && amount.compareTo(command.amount()) == 0 && currency.equals(currencyCode)
                && period == newPeriod && action == command.action()) {
            return; // setting the same budget again changes nothing
        }
        Instant now = now();
        YearMonth month = BudgetPeriod.monthOf(now);
        boolean wasBlocking = blocking(month);
        BigDecimal spent = spending.spent(command.scope(), command.name(), currencyCode, BudgetPeriod.start(month), now);
        int stillCrossed = 0;
        if (exists && month.toString().equals(trackedPeriod) && currency.equals(currencyCode)) {
            for (int threshold : crossed) {
                if (reached(spent, command.amount(), threshold)) {
                    stillCrossed = threshold;
                }
            }
        }
        apply(new BudgetSetEvent(command.budgetId(), command.scope(), command.name(), command.amount(), currencyCode,
                newPeriod, command.action(), exists ? amount : null, spent, month.toString(), stillCrossed,
                command.actor()));
        announceCrossings(month, spent, now);
        if (wasBlocking && !blocking(month)) {
            String why = action == BudgetAction.NOTIFY ? "action changed to notify"
                    : "raised to " + amount.toPlainString() + " " + currency;
            apply(new BudgetReleasedEvent(budgetId, scope, name, month.toString(), spent, amount, currency, why,
                    command.actor()));
        }
    }

    @CommandHandler
    public void handle(CheckBudgetCommand command, SpendReader spending) {
        Instant now = now();
        YearMonth month = BudgetPeriod.monthOf(now);
        BigDecimal spent = spending.spent(scope, name, currency, BudgetPeriod.start(month), now);
        announceCrossings(month, spent, now);
    }

    private void announceCrossings(YearMonth month, BigDecimal spent, Instant now) {
        for (int threshold : THRESHOLDS) {
            boolean already = month.toString().equals(trackedPeriod) && crossed.contains(threshold);
            if (!already && reached(spent, amount, threshold)) {
                apply(new BudgetThresholdCrossedEvent(budgetId, scope, name, month.toString(), threshold, spent, amount,
                        currency, action, now));
            }
        }
    }

    /** Whether this budget blocks starts in {@code month}. */
    private boolean blocking(YearMonth month) {
        return action == BudgetAction.STOP && month.toString().equals(trackedPeriod) && crossed.contains(100);
    }

    private static boolean reached(BigDecimal spent, BigDecimal amount, int percent) {
        return spent.multiply(BigDecimal.valueOf(100)).compareTo(amount.multiply(BigDecimal.valueOf(percent))) >= 0;
    }

    private static void validate(SetBudgetCommand command) {
        if (command.scope() == null) {
            throw DomainRuleViolation.invalid("scope is required: team or owner");
        }
        String name = command.name();
        if (name == null || name.isBlank() || name.length() > MAX_NAME || dev.atelier.domain.shared.Text.problem(name, MAX_NAME, false) != null
                || !name.equals(name.strip())) {
            throw DomainRuleViolation.invalid("name must be the " + command.scope().id() + " the budget is for: 1-"
                    + MAX_NAME + " characters without surrounding blanks or control characters");
        }
        if (!Objects.equals(command.budgetId(), idOf(command.scope(), name))) {
            throw DomainRuleViolation.invalid("budget id must be " + idOf(command.scope(), name));
        }
        if (command.amount() == null || command.amount().signum() <= 0) {
            throw DomainRuleViolation.invalid("amount must be a positive amount of money, was " + command.amount());
        }
        if (command.amount().scale() > 4 || command.amount().precision() - command.amount().scale() > 14) {
            throw DomainRuleViolation.invalid("amount " + command.amount().toPlainString()
                    + " has too many digits (at most 14 before and 4 after the decimal point)");
        }
        try {
            if (command.currency() == null) {
                throw new IllegalArgumentException();
            }
            Currency.getInstance(command.currency().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw DomainRuleViolation.invalid("currency " + dev.atelier.domain.shared.Text.quote(command.currency())
                    + " is not an ISO 4217 code (e.g. EUR, USD); a budget counts the costs in its currency only");
        }
        if (command.action() == null) {
            throw DomainRuleViolation.invalid("action is required: notify or stop");
        }
        if (command.actor() == null) {
            throw DomainRuleViolation.invalid("actor is required");
        }
    }

    private static Instant now() {
        return GenericEventMessage.clock.instant();
    }

    @EventSourcingHandler
    void on(BudgetSetEvent event) {
        budgetId = event.budgetId();
        scope = event.scope();
        name = event.name();
        amount = event.amount();
        currency = event.currency();
        period = event.period();
        action = event.action();
        trackedPeriod = event.spentPeriod();
        crossed.clear();
        for (int threshold : THRESHOLDS) {
            if (threshold <= event.crossedPercent()) {
                crossed.add(threshold);
            }
        }
    }

    @EventSourcingHandler
    void on(BudgetThresholdCrossedEvent event) {
        if (!event.period().equals(trackedPeriod)) {
            trackedPeriod = event.period();
            crossed.clear();
        }
        crossed.add(event.percent());
    }
}
