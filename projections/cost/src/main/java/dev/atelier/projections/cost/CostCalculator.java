package dev.atelier.projections.cost;

import dev.atelier.projections.cost.CostProjection.Billing;
import dev.atelier.projections.cost.CostQueries.CostRow;
import dev.atelier.projections.cost.CostQueries.ForecastRow;
import dev.atelier.projections.cost.CostQueries.GroupBy;
import dev.atelier.projections.cost.CostQueries.Granularity;
import dev.atelier.projections.cost.CostQueries.Money;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The arithmetic of cost reports, forecasts and savings, without I/O: intervals and prices in, rows out.
 *
 * <p>Money is exact until the end: each piece of an interval contributes {@code price per hour x seconds}; a row's
 * amount is the sum of its pieces divided by 3600 and rounded once, half up, to 4 decimals. Different currencies
 * are never added: every row and total has one currency. Time is in whole seconds, periods are UTC days and months.
 */
final class CostCalculator {

    static final BigDecimal SECONDS_PER_HOUR = BigDecimal.valueOf(3600);
    static final int SCALE = 4;
    static final String NO_TEAM = "(no team)";

    private CostCalculator() {
    }

    /**
     * Billed seconds of one group at one price (template version and state) in one period, summed over every
     * workspace of the group: what the read model's queries return ({@link CostReports}). Money is linear in time, so
     * pricing these sums gives the same amounts as pricing each workspace's interval.
     */
    record Usage(String group, String label, String templateId, int version, Billing state, Instant periodStart,
                 long seconds) {
    }

    /** How many intervals of one group at one price are open (billed) now: the current hourly rate. */
    record Open(String group, String label, String templateId, int version, Billing state, long count) {
    }

    /** Where the forecast reads usage from: the read model, or a list in tests. */
    interface UsageSource {
        /** Usage in [from, to) split by {@code granularity}; open intervals count up to {@code to}. */
        List<Usage> usage(Instant from, Instant to, Granularity granularity);

        /** Intervals open at the report's "now". */
        List<Open> open();
    }

    /** Prices of one template version; a null amount is unknown, and its note says why. */
    record Price(String currency, BigDecimal running, BigDecimal stopped, String runningNote, String stoppedNote) {

        static final Price UNKNOWN = new Price(null, null, null, "unknown: no price recorded for this template version",
                "unknown: no price recorded for this template version");

        BigDecimal perHour(Billing state) {
            return switch (state) {
                case RUNNING -> running;
                case STOPPED -> stopped;
                case NONE -> BigDecimal.ZERO;
            };
        }

        String note(Billing state) {
            return state == Billing.RUNNING ? runningNote : state == Billing.STOPPED ? stoppedNote : null;
        }
    }

    record PriceKey(String templateId, int version) {
    }

    /** An automatic stop or delete that lowered the price from {@code from} to {@code to} at {@code at}. */
    record Saving(String workspaceId, String workspaceName, String owner, String team, String templateId,
                  String provider, String reason, String transition, Instant decidedAt, Instant at, Instant endsAt,
                  Billing from, Billing to, int version) {
    }

    // ---------------------------------------------------------------- reports

    static CostQueries.CostReport report(List<Usage> usage, Map<PriceKey, Price> prices, GroupBy groupBy,
                                         Granularity granularity, Instant from, Instant to, Instant now,
                                         String currency) {
        // Rows are put in order once, at the end: a tree map ordered 40,000 owners' rows on every insert (39% of the
        // owner report's CPU in the 2026-12-04 benchmark profile).
        Map<RowKey, Acc> rows = new HashMap<>();
        Map<String, BigDecimal> totals = new TreeMap<>();
        for (Usage u : usage) {
            if (u.seconds() <= 0) {
                continue;
            }
            Price price = prices.getOrDefault(new PriceKey(u.templateId(), u.version()), Price.UNKNOWN);
            BigDecimal perHour = price.perHour(u.state());
            String rowCurrency = perHour == null ? null : price.currency();
            if (currency != null && rowCurrency != null && !currency.equals(rowCurrency)) {
                continue;
            }
            Acc acc = rows.computeIfAbsent(new RowKey(u.group(), u.periodStart(), rowCurrency), k -> new Acc(u.label()));
            acc.add(u.state(), u.seconds(), perHour, price.note(u.state()));
            if (perHour != null) {
                totals.merge(rowCurrency, perHour.multiply(BigDecimal.valueOf(u.seconds())), BigDecimal::add);
            }
        }
        List<CostRow> out = new ArrayList<>();
        boolean incomplete = false;
        for (Map.Entry<RowKey, Acc> e : rows.entrySet()) {
            RowKey key = e.getKey();
            Acc acc = e.getValue();
            boolean unknown = key.currency() == null;
            incomplete |= unknown;
            out.add(new CostRow(key.group().isEmpty() ? null : key.group(), acc.label, periodLabel(key.periodStart(),
                    granularity), key.periodStart(), key.currency(), unknown ? null : amount(acc.numerator),
                    acc.runningSeconds, acc.stoppedSeconds, unknown, unknown ? String.join("; ", acc.notes) : null));
        }
        out.sort(Comparator.comparing(CostRow::label).thenComparing(CostRow::group, Comparator.nullsFirst(String::compareTo))
                .thenComparing(CostRow::periodStart)
                .thenComparing(CostRow::currency, Comparator.nullsLast(String::compareTo)));
        return new CostQueries.CostReport(groupBy.id(), granularity.id(), from, to, now, currency, out, money(totals),
                incomplete);
    }

    /** What the given usage costs in {@code currency}: known prices only, rounded like reports. */
    static BigDecimal spent(List<Usage> usage, Map<PriceKey, Price> prices, String currency) {
        BigDecimal numerator = BigDecimal.ZERO;
        for (Usage u : usage) {
            Price price = prices.getOrDefault(new PriceKey(u.templateId(), u.version()), Price.UNKNOWN);
            BigDecimal perHour = price.perHour(u.state());
            if (perHour != null && u.seconds() > 0 && currency.equals(price.currency())) {
                numerator = numerator.add(perHour.multiply(BigDecimal.valueOf(u.seconds())));
            }
        }
        return amount(numerator);
    }

    // ---------------------------------------------------------------- forecast

    static CostQueries.ForecastReport forecast(UsageSource source, Map<PriceKey, Price> prices, GroupBy groupBy,
                                               YearMonth month, Instant now, Duration lookback, Instant historyStart) {
        Instant monthStart = month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        Instant monthEnd = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        Map<GroupCurrency, ForecastAcc> groups = new TreeMap<>();

        if (!now.isBefore(monthEnd)) {
            pieces(source.usage(monthStart, monthEnd, Granularity.MONTH), prices, (key, label, numerator, note) -> {
                ForecastAcc acc = groups.computeIfAbsent(key, k -> new ForecastAcc(label));
                acc.add(numerator, note);
            });
            for (ForecastAcc acc : groups.values()) {
                acc.projected = acc.spent;
            }
            return forecastReport(month, now, groupBy, "ACTUAL", "the month is over: projected = spent",
                    0, null, null, groups);
        }
        // The current hourly rate of everything billed now (running machines and stopped disks).
        for (Open open : source.open()) {
            Price price = prices.getOrDefault(new PriceKey(open.templateId(), open.version()), Price.UNKNOWN);
            BigDecimal perHour = price.perHour(open.state());
            ForecastAcc acc = groups.computeIfAbsent(new GroupCurrency(open.group(), perHour == null ? null
                    : price.currency()), k -> new ForecastAcc(open.label()));
            if (perHour == null) {
                acc.notes.add(price.note(open.state()));
            } else {
                acc.runRate = acc.runRate.add(perHour.multiply(BigDecimal.valueOf(open.count())));
            }
        }
        if (now.isBefore(monthStart)) {
            long monthSeconds = Duration.between(monthStart, monthEnd).getSeconds();
            for (ForecastAcc acc : groups.values()) {
                acc.remaining = acc.runRate.multiply(BigDecimal.valueOf(monthSeconds));
                acc.projected = acc.remaining;
            }
            return forecastReport(month, now, groupBy, "RUN_RATE",
                    "a month to come: the current hourly rate of running and stopped workspaces for the whole month",
                    0, null, null, groups);
        }
        pieces(source.usage(monthStart, now, Granularity.MONTH), prices, (key, label, numerator, note) ->
                groups.computeIfAbsent(key, k -> new ForecastAcc(label)).add(numerator, note));

        Instant today = now.truncatedTo(ChronoUnit.DAYS);
        Instant tomorrow = earlier(today.plus(Duration.ofDays(1)), monthEnd);
        long restOfToday = Duration.between(now, tomorrow).getSeconds();
        List<LocalDate> remainingDays = new ArrayList<>();
        for (Instant d = tomorrow; d.isBefore(monthEnd); d = d.plus(Duration.ofDays(1))) {
            remainingDays.add(LocalDate.ofInstant(d, ZoneOffset.UTC));
        }
        // Only whole days of history count: the first day the engine knew anything about is partial.
        Instant firstFullDay = historyStart == null ? today : historyStart.truncatedTo(ChronoUnit.DAYS);
        if (historyStart != null && !firstFullDay.equals(historyStart)) {
            firstFullDay = firstFullDay.plus(Duration.ofDays(1));
        }
        Instant windowStart = later(today.minus(Duration.ofDays(lookback.toDays())), firstFullDay);
        int historyDays = windowStart.isBefore(today) ? (int) Duration.between(windowStart, today).toDays() : 0;

        String method;
        String description;
        for (ForecastAcc acc : groups.values()) {
            acc.restOfToday = acc.runRate.multiply(BigDecimal.valueOf(restOfToday));
        }
        if (historyDays == 0) {
            method = "RUN_RATE";
            description = "no full day of history yet: the current hourly rate of running and stopped workspaces "
                    + "until the end of the month";
            for (ForecastAcc acc : groups.values()) {
                acc.remaining = acc.runRate.multiply(BigDecimal.valueOf(remainingDays.size() * 86_400L));
            }
        } else {
            boolean weekdays = historyDays >= 7;
            method = weekdays ? "WEEKDAY_PATTERN" : "DAILY_AVERAGE";
            description = weekdays
                    ? "rest of today at the current hourly rate; each remaining day at the average spend of the same "
                    + "weekday over the last " + historyDays + " full days"
                    : "rest of today at the current hourly rate; each remaining day at the average daily spend of the "
                    + "last " + historyDays + " full day" + (historyDays == 1 ? "" : "s");
            Map<GroupCurrency, Map<DayOfWeek, BigDecimal>> byWeekday = new TreeMap<>();
            Map<DayOfWeek, Integer> weekdayCount = new EnumMap<>(DayOfWeek.class);
            for (Instant d = windowStart; d.isBefore(today); d = d.plus(Duration.ofDays(1))) {
                weekdayCount.merge(LocalDate.ofInstant(d, ZoneOffset.UTC).getDayOfWeek(), 1, Integer::sum);
            }
            for (Usage day : source.usage(windowStart, today, Granularity.DAY)) {
                DayOfWeek weekday = LocalDate.ofInstant(day.periodStart(), ZoneOffset.UTC).getDayOfWeek();
                pieces(List.of(day), prices, (key, label, numerator, note) -> {
                    ForecastAcc acc = groups.computeIfAbsent(key, k -> new ForecastAcc(label));
                    if (numerator == null) {
                        acc.notes.add(note);
                    } else {
                        byWeekday.computeIfAbsent(key, k -> new EnumMap<>(DayOfWeek.class))
                                .merge(weekday, numerator, BigDecimal::add);
                    }
                });
            }
            MathContext mc = MathContext.DECIMAL128;
            for (Map.Entry<GroupCurrency, ForecastAcc> e : groups.entrySet()) {
                ForecastAcc acc = e.getValue();
                Map<DayOfWeek, BigDecimal> pattern = byWeekday.getOrDefault(e.getKey(), Map.of());
                BigDecimal remaining = BigDecimal.ZERO;
                if (weekdays) {
                    for (LocalDate day : remainingDays) {
                        BigDecimal sum = pattern.getOrDefault(day.getDayOfWeek(), BigDecimal.ZERO);
                        remaining = remaining.add(sum.divide(BigDecimal.valueOf(weekdayCount.get(day.getDayOfWeek())), mc));
                    }
                } else {
                    BigDecimal sum = pattern.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);
                    remaining = sum.multiply(BigDecimal.valueOf(remainingDays.size()))
                            .divide(BigDecimal.valueOf(historyDays), mc);
                }
                acc.remaining = remaining;
            }
        }
        for (ForecastAcc acc : groups.values()) {
            acc.projected = acc.spent.add(acc.restOfToday).add(acc.remaining);
        }
        return forecastReport(month, now, groupBy, method, description, historyDays,
                historyDays == 0 ? null : windowStart, historyDays == 0 ? null : today, groups);
    }

    private static CostQueries.ForecastReport forecastReport(YearMonth month, Instant now, GroupBy groupBy,
                                                             String method, String description, int historyDays,
                                                             Instant historyFrom, Instant historyTo,
                                                             Map<GroupCurrency, ForecastAcc> groups) {
        List<ForecastRow> rows = new ArrayList<>();
        Map<String, BigDecimal> spent = new TreeMap<>();
        Map<String, BigDecimal> projected = new TreeMap<>();
        boolean incomplete = false;
        for (Map.Entry<GroupCurrency, ForecastAcc> e : groups.entrySet()) {
            ForecastAcc acc = e.getValue();
            String currency = e.getKey().currency();
            String group = e.getKey().group().isEmpty() ? null : e.getKey().group();
            if (currency == null) {
                incomplete = true;
                rows.add(new ForecastRow(group, acc.label, null, null, null, null, null, null, true,
                        String.join("; ", acc.notes)));
                continue;
            }
            rows.add(new ForecastRow(group, acc.label, currency, amount(acc.spent), plain(acc.runRate),
                    amount(acc.restOfToday), amount(acc.remaining), amount(acc.projected), false, null));
            spent.merge(currency, acc.spent, BigDecimal::add);
            projected.merge(currency, acc.projected, BigDecimal::add);
        }
        rows.sort(Comparator.comparing(ForecastRow::label)
                .thenComparing(ForecastRow::currency, Comparator.nullsLast(String::compareTo)));
        return new CostQueries.ForecastReport(month.toString(), now, groupBy.id(), method, description, historyDays,
                historyFrom, historyTo, rows, money(spent), money(projected), incomplete);
    }

    /** Receives each group's cost numerator (price x seconds) of one interval piece, or null and why. */
    private interface PieceSink {
        void accept(GroupCurrency key, String label, BigDecimal numerator, String unknownNote);
    }

    /** Each usage row's cost numerator (price x seconds) for its group and currency, or null and why. */
    private static void pieces(List<Usage> usage, Map<PriceKey, Price> prices, PieceSink sink) {
        for (Usage u : usage) {
            if (u.seconds() <= 0) {
                continue;
            }
            Price price = prices.getOrDefault(new PriceKey(u.templateId(), u.version()), Price.UNKNOWN);
            BigDecimal perHour = price.perHour(u.state());
            GroupCurrency key = new GroupCurrency(u.group(), perHour == null ? null : price.currency());
            sink.accept(key, u.label(), perHour == null ? null : perHour.multiply(BigDecimal.valueOf(u.seconds())),
                    perHour == null ? price.note(u.state()) : null);
        }
    }

    // ---------------------------------------------------------------- savings

    static CostQueries.SavingsReport savings(List<Saving> savings, Map<PriceKey, Price> prices, Instant from,
                                             Instant to, Instant now, Duration horizon) {
        List<CostQueries.SavingRow> rows = new ArrayList<>();
        Map<String, BigDecimal> totals = new TreeMap<>();
        Map<List<String>, BigDecimal> byReason = new TreeMap<>(Comparator.comparing((List<String> k) -> k.get(0))
                .thenComparing(k -> k.get(1)));
        Map<List<String>, Integer> stops = new LinkedHashMap<>();
        boolean incomplete = false;
        for (Saving s : savings) {
            Instant countedFrom = later(s.at(), from);
            Instant until = s.at().plus(horizon);
            String untilReason = "horizon";
            if (s.endsAt() != null && !s.endsAt().isAfter(until)) {
                until = s.endsAt();
                untilReason = "next start";
            }
            if (to.isBefore(until)) {
                until = to;
                untilReason = "end of period";
            }
            if (now.isBefore(until)) {
                until = now;
                untilReason = "now";
            }
            if (!until.isAfter(countedFrom)) {
                continue;
            }
            long seconds = Duration.between(countedFrom, until).getSeconds();
            Price price = prices.getOrDefault(new PriceKey(s.templateId(), s.version()), Price.UNKNOWN);
            BigDecimal before = price.perHour(s.from());
            BigDecimal after = price.perHour(s.to());
            boolean unknown = before == null || after == null;
            BigDecimal perHour = unknown ? null : before.subtract(after);
            String currency = unknown ? null : price.currency();
            BigDecimal numerator = unknown ? null : perHour.multiply(BigDecimal.valueOf(seconds));
            incomplete |= unknown;
            String note = unknown ? (before == null ? price.note(s.from()) : price.note(s.to())) : null;
            rows.add(new CostQueries.SavingRow(s.workspaceId(), s.workspaceName(), s.owner(), s.team(), s.templateId(),
                    s.provider(), s.reason(), s.transition(), s.decidedAt(), s.at(), countedFrom, until, untilReason,
                    seconds, currency, perHour == null ? null : plain(perHour),
                    numerator == null ? null : amount(numerator), unknown, note));
            if (!unknown) {
                totals.merge(currency, numerator, BigDecimal::add);
                byReason.merge(List.of(s.reason(), currency), numerator, BigDecimal::add);
                stops.merge(List.of(s.reason(), currency), 1, Integer::sum);
            }
        }
        rows.sort(Comparator.comparing(CostQueries.SavingRow::stoppedAt).thenComparing(CostQueries.SavingRow::workspaceId));
        List<CostQueries.ReasonTotal> reasons = new ArrayList<>();
        byReason.forEach((k, n) -> reasons.add(new CostQueries.ReasonTotal(k.get(0), k.get(1), amount(n), stops.get(k))));
        return new CostQueries.SavingsReport(from, to, now, horizon.toString(), rows, money(totals), reasons, incomplete);
    }

    // ---------------------------------------------------------------- helpers

    /** A price as written: no trailing zeros, no exponent. */
    static BigDecimal plain(BigDecimal value) {
        BigDecimal stripped = value.stripTrailingZeros();
        return stripped.scale() < 0 ? stripped.setScale(0) : stripped;
    }

    static BigDecimal amount(BigDecimal numerator) {
        return numerator.divide(SECONDS_PER_HOUR, SCALE, RoundingMode.HALF_UP);
    }

    private static List<Money> money(Map<String, BigDecimal> numerators) {
        List<Money> out = new ArrayList<>();
        numerators.forEach((currency, n) -> out.add(new Money(currency, amount(n))));
        return out;
    }

    static Instant periodStart(Instant t, Granularity granularity) {
        LocalDate day = LocalDate.ofInstant(t, ZoneOffset.UTC);
        LocalDate start = granularity == Granularity.DAY ? day : day.withDayOfMonth(1);
        return start.atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    static Instant next(Instant periodStart, Granularity granularity) {
        LocalDate day = LocalDate.ofInstant(periodStart, ZoneOffset.UTC);
        return (granularity == Granularity.DAY ? day.plusDays(1) : day.plusMonths(1)).atStartOfDay()
                .toInstant(ZoneOffset.UTC);
    }

    private static String periodLabel(Instant periodStart, Granularity granularity) {
        LocalDate day = LocalDate.ofInstant(periodStart, ZoneOffset.UTC);
        return granularity == Granularity.DAY ? day.toString() : YearMonth.from(day).toString();
    }

    static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    static Instant earlier(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private record RowKey(String group, Instant periodStart, String currency) implements Comparable<RowKey> {
        private static final Comparator<RowKey> ORDER = Comparator.comparing(RowKey::group)
                .thenComparing(RowKey::periodStart)
                .thenComparing(RowKey::currency, Comparator.nullsLast(String::compareTo));

        @Override
        public int compareTo(RowKey o) {
            return ORDER.compare(this, o);
        }
    }

    private record GroupCurrency(String group, String currency) implements Comparable<GroupCurrency> {
        private static final Comparator<GroupCurrency> ORDER = Comparator.comparing(GroupCurrency::group)
                .thenComparing(GroupCurrency::currency, Comparator.nullsLast(String::compareTo));

        @Override
        public int compareTo(GroupCurrency o) {
            return ORDER.compare(this, o);
        }
    }

    private static final class Acc {
        final String label;
        BigDecimal numerator = BigDecimal.ZERO;
        long runningSeconds;
        long stoppedSeconds;
        final Set<String> notes = new LinkedHashSet<>();

        Acc(String label) {
            this.label = label;
        }

        void add(Billing state, long seconds, BigDecimal perHour, String note) {
            if (state == Billing.RUNNING) {
                runningSeconds += seconds;
            } else if (state == Billing.STOPPED) {
                stoppedSeconds += seconds;
            }
            if (perHour == null) {
                notes.add(Objects.requireNonNullElse(note, "unknown price"));
            } else {
                numerator = numerator.add(perHour.multiply(BigDecimal.valueOf(seconds)));
            }
        }
    }

    private static final class ForecastAcc {
        final String label;
        BigDecimal spent = BigDecimal.ZERO;
        BigDecimal runRate = BigDecimal.ZERO;
        BigDecimal restOfToday = BigDecimal.ZERO;
        BigDecimal remaining = BigDecimal.ZERO;
        BigDecimal projected = BigDecimal.ZERO;
        final Set<String> notes = new LinkedHashSet<>();

        ForecastAcc(String label) {
            this.label = label;
        }

        void add(BigDecimal numerator, String note) {
            if (numerator == null) {
                notes.add(note);
            } else {
                spent = spent.add(numerator);
            }
        }
    }
}
