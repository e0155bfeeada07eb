package dev.atelier.domain.budget;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;

/** The period a budget's amount is for. Calendar months in UTC (the only period so far). */
public enum BudgetPeriod {
    MONTH;

    public static YearMonth monthOf(Instant at) {
        return YearMonth.from(at.atZone(ZoneOffset.UTC));
    }

    public static Instant start(YearMonth month) {
        return month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    public static Instant end(YearMonth month) {
        return start(month.plusMonths(1));
    }
}
