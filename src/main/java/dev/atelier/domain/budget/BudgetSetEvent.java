package dev.atelier.domain.budget;

import dev.atelier.domain.shared.Actor;
import java.math.BigDecimal;
import org.axonframework.serialization.Revision;

/**
 * A budget was created ({@code previousAmount} null) or changed. {@code spent} is what the scope had spent in
 * {@code spentPeriod} when it changed, and {@code crossedPercent} the highest threshold (0, 80 or 100) that still
 * counts as crossed for that period under the new amount.
 */
@Revision("1")
public record BudgetSetEvent(
        String budgetId,
        BudgetScope scope,
        String name,
        BigDecimal amount,
        String currency,
        BudgetPeriod period,
        BudgetAction action,
        BigDecimal previousAmount,
        BigDecimal spent,
        String spentPeriod,
        int crossedPercent,
        Actor actor) {
}
