package dev.atelier.domain.budget;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * What a scope spent, for budget decisions. Implemented by the cost read model (projections/cost); like
 * {@code ActivityReader} for idle decisions, it is injected into the aggregate so that the domain stays free of I/O.
 */
public interface SpendReader {

    /**
     * Money spent by the workspaces of {@code scope}/{@code name} in {@code currency} from {@code from} (inclusive) to
     * {@code to} (exclusive); costs in other currencies and costs whose price is unknown are not included.
     */
    BigDecimal spent(BudgetScope scope, String name, String currency, Instant from, Instant to);
}
