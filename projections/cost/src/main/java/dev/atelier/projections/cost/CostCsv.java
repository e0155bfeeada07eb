package dev.atelier.projections.cost;

import com.fasterxml.jackson.databind.SequenceWriter;
import com.fasterxml.jackson.dataformat.csv.CsvGenerator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Every cost report as CSV (RFC 4180, header row, UTC times, amounts as in the JSON answers). */
public final class CostCsv {

    /** Quotes only what needs it (a comma, quote or line break), like spreadsheets write CSV. */
    private static final CsvMapper CSV = CsvMapper.builder()
            .enable(CsvGenerator.Feature.STRICT_CHECK_FOR_QUOTING).build();

    private CostCsv() {
    }

    public static String costs(CostQueries.CostReport report) {
        return write(List.of("group", "label", "period", "period_start", "currency", "amount", "running_seconds",
                "stopped_seconds", "status", "note"), report.rows(), r -> row(r.group(), r.label(), r.period(),
                r.periodStart(), r.currency(), r.amount(), r.runningSeconds(), r.stoppedSeconds(),
                r.unknown() ? "unknown" : "known", r.note()));
    }

    public static String forecast(CostQueries.ForecastReport report) {
        return write(List.of("month", "method", "group", "label", "currency", "spent_so_far", "run_rate_per_hour",
                        "rest_of_today", "remaining_days", "projected", "status", "note"), report.rows(),
                r -> row(report.month(), report.method(), r.group(), r.label(), r.currency(), r.spentSoFar(),
                        r.runRatePerHour(), r.restOfToday(), r.remainingDays(), r.projected(),
                        r.unknown() ? "unknown" : "known", r.note()));
    }

    public static String savings(CostQueries.SavingsReport report) {
        return write(List.of("workspace_id", "workspace_name", "owner", "team", "template_id", "provider", "reason",
                        "transition", "decided_at", "stopped_at", "counted_from", "counted_until", "counted_until_reason",
                        "seconds", "currency", "saved_per_hour", "amount", "status", "note"), report.rows(),
                r -> row(r.workspaceId(), r.workspaceName(), r.owner(), r.team(), r.templateId(), r.provider(),
                        r.reason(), r.transition(), r.decidedAt(), r.stoppedAt(), r.countedFrom(), r.countedUntil(),
                        r.countedUntilReason(), r.seconds(), r.currency(), r.savedPerHour(), r.amount(),
                        r.unknown() ? "unknown" : "known", r.note()));
    }

    public static String prices(CostQueries.PriceReport report) {
        return write(List.of("provider", "machine_type", "region", "price", "unit", "currency", "source", "as_of"),
                report.table(), e -> row(e.provider(), e.machineType(), e.region(), CostCalculator.plain(e.price()),
                        e.machineType() != null && e.machineType().startsWith("disk") ? "per GB-month" : "per hour",
                        e.currency(), e.source(), e.asOf()));
    }

    private static List<Object> row(Object... values) {
        return java.util.Arrays.asList(values);
    }

    private static <T> String write(List<String> columns, List<T> rows, Function<T, List<Object>> values) {
        CsvSchema.Builder schema = CsvSchema.builder();
        columns.forEach(schema::addColumn);
        StringWriter out = new StringWriter();
        try (SequenceWriter writer = CSV.writer(schema.build().withHeader()).writeValues(out)) {
            for (T row : rows) {
                List<Object> cells = values.apply(row);
                Map<String, String> record = new LinkedHashMap<>();
                for (int i = 0; i < columns.size(); i++) {
                    Object cell = cells.get(i);
                    record.put(columns.get(i), cell == null ? "" : cell instanceof java.math.BigDecimal d
                            ? d.toPlainString() : cell instanceof Number n ? n.toString()
                            : dev.atelier.domain.shared.Text.spreadsheetSafe(cell.toString()));
                }
                writer.write(record);
            }
            if (rows.isEmpty()) {
                writer.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String csv = out.toString();
        return csv.isEmpty() ? String.join(",", columns) + "\n" : csv;
    }
}
