package dev.atelier.api;

import dev.atelier.domain.shared.Text;

import dev.atelier.projections.cost.CostCsv;
import dev.atelier.projections.cost.CostQueries;
import dev.atelier.projections.cost.CostRebuild;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Cost reports for finance (roles {@code finance} and {@code owner}): spend by group and day/month, the month's
 * forecast, savings from automatic stops, the price table, and CSV exports of each. Times are UTC; {@code from} and
 * {@code to} take a date ({@code 2026-10-01}, a whole day; {@code to} includes that day) or an instant
 * ({@code 2026-10-01T12:00:00Z}, {@code to} exclusive); {@code month=YYYY-MM} is the whole month.
 */
@RestController
@RequestMapping("/api/v1/costs")
public class CostController {

    private static final Duration MAX_RANGE = Duration.ofDays(3660);

    private final Gateways gateways;
    private final Clock clock;
    private final CostRebuild rebuild;
    private final dev.atelier.audit.AuditRecorder recorder;
    private final Permits exports;

    public CostController(Gateways gateways, ObjectProvider<Clock> clock, CostRebuild rebuild,
                          dev.atelier.audit.AuditRecorder recorder, ApiLimits limits) {
        this.gateways = gateways;
        // The cost read model's clock (a test may set one): defaults are taken from the same moment it reports at.
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.rebuild = rebuild;
        this.recorder = recorder;
        this.exports = new Permits(limits.concurrentCostExports(), "cost exports", "atelier.limits.concurrent-cost-exports");
    }

    @GetMapping
    public Mono<CostQueries.CostReport> costs(@RequestParam(defaultValue = "team") String groupBy,
                                              @RequestParam(required = false) String from,
                                              @RequestParam(required = false) String to,
                                              @RequestParam(required = false) String month,
                                              @RequestParam(defaultValue = "month") String granularity,
                                              @RequestParam(required = false) String currency,
                                              @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        return gateways.query(costsQuery(groupBy, from, to, month, granularity, currency),
                ResponseTypes.instanceOf(CostQueries.CostReport.class));
    }

    @GetMapping("/forecast")
    public Mono<CostQueries.ForecastReport> forecast(@RequestParam(required = false) String month,
                                                     @RequestParam(defaultValue = "team") String groupBy,
                                                     @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        return gateways.query(forecastQuery(month, groupBy), ResponseTypes.instanceOf(CostQueries.ForecastReport.class));
    }

    @GetMapping("/savings")
    public Mono<CostQueries.SavingsReport> savings(@RequestParam(required = false) String from,
                                                   @RequestParam(required = false) String to,
                                                   @RequestParam(required = false) String month,
                                                   @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        Range range = range(from, to, month);
        return gateways.query(new CostQueries.Savings(range.from(), range.to()),
                ResponseTypes.instanceOf(CostQueries.SavingsReport.class));
    }

    /** The price table in effect (shipped and configured) and the resolved prices of every template version. */
    @GetMapping("/prices")
    public Mono<CostQueries.PriceReport> prices(@AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        return gateways.query(new CostQueries.Prices(), ResponseTypes.instanceOf(CostQueries.PriceReport.class));
    }

    /** Any report as CSV: {@code report=costs|forecast|savings|prices} with that report's parameters. */
    @GetMapping("/export")
    public Mono<ResponseEntity<String>> export(@RequestParam(defaultValue = "csv") String format,
                                               @RequestParam(defaultValue = "costs") String report,
                                               @RequestParam(defaultValue = "team") String groupBy,
                                               @RequestParam(required = false) String from,
                                               @RequestParam(required = false) String to,
                                               @RequestParam(required = false) String month,
                                               @RequestParam(defaultValue = "month") String granularity,
                                               @RequestParam(required = false) String currency,
                                               @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        if (!"csv".equalsIgnoreCase(format)) {
            throw ApiProblem.badRequest("format " + Text.quote(format) + " is not supported; use format=csv");
        }
        Mono<String> csv;
        String name;
        switch (report.toLowerCase(Locale.ROOT)) {
            case "costs" -> {
                CostQueries.Costs query = costsQuery(groupBy, from, to, month, granularity, currency);
                name = "costs-by-" + query.groupBy().id() + "-" + day(query.from()) + "-to-" + day(query.to());
                csv = gateways.query(query, ResponseTypes.instanceOf(CostQueries.CostReport.class)).map(CostCsv::costs);
            }
            case "forecast" -> {
                CostQueries.Forecast query = forecastQuery(month, groupBy);
                name = "forecast-" + query.month() + "-by-" + query.groupBy().id();
                csv = gateways.query(query, ResponseTypes.instanceOf(CostQueries.ForecastReport.class))
                        .map(CostCsv::forecast);
            }
            case "savings" -> {
                Range range = range(from, to, month);
                name = "savings-" + day(range.from()) + "-to-" + day(range.to());
                csv = gateways.query(new CostQueries.Savings(range.from(), range.to()),
                        ResponseTypes.instanceOf(CostQueries.SavingsReport.class)).map(CostCsv::savings);
            }
            case "prices" -> {
                name = "prices";
                csv = gateways.query(new CostQueries.Prices(), ResponseTypes.instanceOf(CostQueries.PriceReport.class))
                        .map(CostCsv::prices);
            }
            default -> throw ApiProblem.badRequest("report " + Text.quote(report)
                    + " is unknown (allowed: costs, forecast, savings, prices)");
        }
        String filename = "atelier-" + name + ".csv";
        return exports.run(csv).map(body -> ResponseEntity.ok()
                .contentType(new MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8))
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"" + filename + "\"")
                .body(body));
    }

    /**
     * Rebuilds the cost read model from the event store (role {@code owner}): resets the {@code costs} processor's
     * position; it replays every event. {@code GET} tells whether the replay has finished.
     */
    @PostMapping("/rebuild")
    public Mono<ResponseEntity<CostRebuild.Status>> rebuild(@AuthenticationPrincipal AtelierPrincipal caller,
                                                            org.springframework.web.server.ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        java.util.Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
                    // On record before the read model is cleared.
                    recorder.record(new dev.atelier.projections.audit.AuditRecordedEvent("rebuild",
                            dev.atelier.projections.audit.AuditEntry.COMPLETED, "costs", null,
                            dev.atelier.projections.audit.AuditEntry.SUCCESS, 202, null, java.util.Map.of()), metadata);
                    try {
                        rebuild.rebuild();
                    } catch (RuntimeException e) {
                        throw ApiProblem.conflict("the cost read model could not be reset: " + e.getMessage()
                                + "; in a cluster, stop the other nodes first (docs/costs.md)");
                    }
                    return ResponseEntity.status(HttpStatus.ACCEPTED).body(rebuild.status());
                })
                .subscribeOn(Schedulers.boundedElastic());
    }

    @GetMapping("/rebuild")
    public Mono<CostRebuild.Status> rebuildStatus(@AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER);
        return Mono.fromCallable(rebuild::status).subscribeOn(Schedulers.boundedElastic());
    }

    private CostQueries.Costs costsQuery(String groupBy, String from, String to, String month, String granularity,
                                         String currency) {
        Range range = range(from, to, month);
        CostQueries.Granularity g = parse(CostQueries.Granularity.class, "granularity", granularity);
        return new CostQueries.Costs(parse(CostQueries.GroupBy.class, "groupBy", groupBy), g, range.from(), range.to(),
                currency(currency));
    }

    private CostQueries.Forecast forecastQuery(String month, String groupBy) {
        String m = month == null ? YearMonth.from(now().atZone(ZoneOffset.UTC)).toString() : month;
        try {
            YearMonth.parse(m);
        } catch (DateTimeParseException e) {
            throw ApiProblem.badRequest("month " + Text.quote(month) + " is not YYYY-MM (for example 2026-10)");
        }
        return new CostQueries.Forecast(m, parse(CostQueries.GroupBy.class, "groupBy", groupBy));
    }

    private record Range(Instant from, Instant to) {
    }

    private Range range(String from, String to, String month) {
        Instant start;
        Instant end;
        if (month != null) {
            if (from != null || to != null) {
                throw ApiProblem.badRequest("give either month or from/to, not both");
            }
            YearMonth m;
            try {
                m = YearMonth.parse(month);
            } catch (DateTimeParseException e) {
                throw ApiProblem.badRequest("month " + Text.quote(month) + " is not YYYY-MM (for example 2026-10)");
            }
            start = m.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
            end = m.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        } else {
            start = from == null ? YearMonth.from(now().atZone(ZoneOffset.UTC)).atDay(1).atStartOfDay()
                    .toInstant(ZoneOffset.UTC) : time("from", from, false);
            end = to == null ? now() : time("to", to, true);
        }
        if (!end.isAfter(start)) {
            throw ApiProblem.badRequest("'to' (" + end + ") must be after 'from' (" + start + ")");
        }
        if (Duration.between(start, end).compareTo(MAX_RANGE) > 0) {
            throw ApiProblem.badRequest("the range may be at most 10 years");
        }
        return new Range(start, end);
    }

    /** A date (the start of that UTC day, or for 'to' the end of it) or an ISO-8601 instant. */
    private static Instant time(String name, String value, boolean inclusiveDay) {
        try {
            if (value.length() == 10) {
                LocalDate day = LocalDate.parse(value);
                return (inclusiveDay ? day.plusDays(1) : day).atStartOfDay().toInstant(ZoneOffset.UTC);
            }
            return Instant.parse(value).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        } catch (DateTimeParseException e) {
            throw ApiProblem.badRequest(name + " " + Text.quote(value) + " is neither a date (2026-10-01) nor an instant "
                    + "(2026-10-01T00:00:00Z); times are UTC");
        }
    }

    private static String currency(String currency) {
        if (currency == null) {
            return null;
        }
        String code = currency.toUpperCase(Locale.ROOT);
        try {
            java.util.Currency.getInstance(code);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("currency " + Text.quote(currency) + " is not an ISO 4217 code (e.g. EUR, USD)");
        }
        return code;
    }

    private static String day(Instant instant) {
        return LocalDate.ofInstant(instant, ZoneOffset.UTC).toString();
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String name, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest(name + " " + Text.quote(value) + " is unknown (allowed: " + Arrays.stream(
                    type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "))
                    + ")");
        }
    }

    /** The moment the defaults of a range are taken from; the reports themselves come through the query gateway. */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.SECONDS);
    }
}
