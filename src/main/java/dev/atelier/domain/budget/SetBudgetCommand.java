package dev.atelier.domain.budget;

import dev.atelier.domain.shared.Actor;
import java.math.BigDecimal;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Creates a budget or changes it (raising it is a new set with a higher amount). */
public record SetBudgetCommand(
        @TargetAggregateIdentifier String budgetId,
        BudgetScope scope,
        String name,
        BigDecimal amount,
        String currency,
        BudgetPeriod period,
        BudgetAction action,
        Actor actor) {
}
