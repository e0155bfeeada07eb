package dev.atelier.domain.budget;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.YearMonth;
import java.util.Optional;

/**
 * Whether a used-up budget with {@code action: stop} forbids new starts for a workspace's owner or team. Implemented
 * by the budget read model (a subscribing projection, current the moment a budget command returns) and injected
 * into the Workspace aggregate, which takes the decision.
 */
public interface BudgetGuard {

    BudgetGuard NONE = (owner, team, at) -> Optional.empty();

    /** The budget that blocks starts for this owner or team at {@code at}, if any. */
    Optional<Block> blocking(String owner, String team, Instant at);

    record Block(BudgetScope scope, String name, BigDecimal amount, String currency, YearMonth period) {

        /** Starts are possible again from here on (the next period), or earlier when the budget is raised. */
        public Instant until() {
            return BudgetPeriod.end(period);
        }

        public String describe() {
            return "the budget of " + scope.id() + " '" + name + "' (" + amount.toPlainString() + " " + currency
                    + " per month, action stop) is used up for " + period + "; starts are refused until " + until()
                    + " or until the budget is raised (POST /api/v1/budgets)";
        }
    }
}
