package dev.atelier.domain.template;

import java.math.BigDecimal;

/** Price of a workspace per hour while running and while stopped (disk), in one ISO-4217 currency. */
public record Pricing(
        BigDecimal runningPerHour,
        BigDecimal stoppedPerHour,
        String currency) {
}
