package dev.atelier.domain.budget;

import java.math.BigDecimal;
import java.time.Instant;
import org.axonframework.serialization.Revision;

/** The scope's spend in {@code period} reached {@code percent} (80 or 100) of the budget. */
@Revision("1")
public record BudgetThresholdCrossedEvent(
        String budgetId,
        BudgetScope scope,
        String name,
        String period,
        int percent,
        BigDecimal spent,
        BigDecimal amount,
        String currency,
        BudgetAction action,
        Instant at) {
}
