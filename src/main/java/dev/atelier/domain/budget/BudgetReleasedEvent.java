package dev.atelier.domain.budget;

import dev.atelier.domain.shared.Actor;
import java.math.BigDecimal;
import org.axonframework.serialization.Revision;

/** A used-up budget that blocked starts no longer does (it was raised or its action changed to notify). */
@Revision("1")
public record BudgetReleasedEvent(
        String budgetId,
        BudgetScope scope,
        String name,
        String period,
        BigDecimal spent,
        BigDecimal amount,
        String currency,
        String why,
        Actor actor) {
}
