package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/** Spend per group ({@code GET /api/v1/costs}, owners and finance), with totals per currency. */
@Command(name = "costs", description = "Show spend by team, owner, template, provider or workspace (owners, finance).")
final class CostsCommand extends AtelierCommand {

    @Option(names = "--group-by", paramLabel = "GROUP", defaultValue = "team",
            description = "team, owner, template, provider or workspace (default ${DEFAULT-VALUE}).") String groupBy;
    @Option(names = "--month", paramLabel = "YYYY-MM") String month;
    @Option(names = "--from", paramLabel = "DATE") String from;
    @Option(names = "--to", paramLabel = "DATE") String to;
    @Option(names = "--granularity", paramLabel = "day|month") String granularity;
    @Option(names = "--currency", paramLabel = "CODE") String currency;

    @Override
    int execute() {
        Map<String, Object> query = new LinkedHashMap<>();
        query.put("groupBy", groupBy);
        query.put("month", month);
        query.put("from", from);
        query.put("to", to);
        query.put("granularity", granularity);
        query.put("currency", currency);
        JsonNode report = engine().get("/api/v1/costs" + EngineClient.query(query));
        if (json) {
            out().json(report);
            return ExitCodes.OK;
        }
        Output.Table table = out().table(groupBy.toUpperCase(java.util.Locale.ROOT), "PERIOD", "AMOUNT", "CURRENCY",
                "RUNNING", "STOPPED");
        report.path("rows").forEach(r -> table.row(r.path("label").asText(r.path("group").asText("(none)")),
                r.path("period").asText(), r.path("unknown").asBoolean() ? "unknown" : r.path("amount").asText(),
                r.path("currency").asText(), hours(r.path("runningSeconds").asLong()), hours(r.path("stoppedSeconds").asLong())));
        report.path("totals").forEach(t -> table.row("TOTAL", "", t.path("amount").asText(), t.path("currency").asText(), "", ""));
        table.print();
        if (report.path("incomplete").asBoolean()) {
            out().progress("note: some prices are unknown; the totals are incomplete");
        }
        return ExitCodes.OK;
    }

    private static String hours(long seconds) {
        return String.format(java.util.Locale.ROOT, "%.1fh", seconds / 3600.0);
    }
}
