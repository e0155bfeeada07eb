package dev.atelier.projections.cost;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;

/**
 * {@code atelier.costs.*} (docs/costs.md).
 *
 * @param savingsHorizon      an automatic stop counts as saving at most this long (unless the workspace starts
 *                            again earlier, or the report's period ends)
 * @param budgetCheckInterval how often budgets compare their scope's spend with their thresholds (a persistent,
 *                            cluster-safe db-scheduler task)
 * @param forecastLookback    how many past days the forecast's daily pattern looks at
 * @param prices              machine prices added to (or replacing entries of) the shipped table
 * @param diskPrices          disk prices per GB and month added to (or replacing entries of) the shipped table
 */
@ConfigurationProperties("atelier.costs")
public record CostSettings(@DefaultValue("P1D") Duration savingsHorizon,
                           @DefaultValue("PT1M") Duration budgetCheckInterval,
                           @DefaultValue("P28D") Duration forecastLookback,
                           List<MachinePrice> prices,
                           List<DiskPrice> diskPrices) {

    public CostSettings {
        prices = prices == null ? List.of() : List.copyOf(prices);
        diskPrices = diskPrices == null ? List.of() : List.copyOf(diskPrices);
        if (savingsHorizon.isNegative() || savingsHorizon.isZero()) {
            throw new IllegalArgumentException("atelier.costs.savings-horizon must be positive, was " + savingsHorizon);
        }
        if (budgetCheckInterval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("atelier.costs.budget-check-interval must be at least PT0.1S");
        }
        if (forecastLookback.toDays() < 1) {
            throw new IllegalArgumentException("atelier.costs.forecast-lookback must be at least P1D");
        }
    }

    public static CostSettings defaults() {
        return new CostSettings(Duration.ofDays(1), Duration.ofMinutes(1), Duration.ofDays(28), List.of(), List.of());
    }

    /** On-demand price per hour of a machine type of a provider. */
    public record MachinePrice(String provider, String machineType, BigDecimal perHour, String currency, String source) {
    }

    /** Price per GB and month (730 hours) of a provider's workspace disk. */
    public record DiskPrice(String provider, BigDecimal perGbMonth, String currency, String source) {
    }
}
