package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/** The audit trail ({@code GET /api/v1/audit}, auditors), newest first, one page. */
@Command(name = "audit", description = "Show audit trail entries (auditors), newest first.")
final class AuditCommand extends AtelierCommand {

    @Option(names = "--actor", paramLabel = "ID") String actor;
    @Option(names = "--action", paramLabel = "ACTION", description = "e.g. workspace.create") String action;
    @Option(names = "--resource-type", paramLabel = "TYPE") String resourceType;
    @Option(names = "--resource-id", paramLabel = "ID") String resourceId;
    @Option(names = "--outcome", paramLabel = "OUTCOME", description = "success, failure, denied, ...") String outcome;
    @Option(names = "--from", paramLabel = "TIME", description = "A date (2026-10-01) or an instant.") String from;
    @Option(names = "--to", paramLabel = "TIME") String to;
    @Option(names = "--limit", paramLabel = "N", defaultValue = "50") int limit;
    @Option(names = "--cursor", paramLabel = "CURSOR", description = "The next page (printed after a full page).") String cursor;

    @Override
    int execute() {
        Map<String, Object> query = new LinkedHashMap<>();
        query.put("actor", actor);
        query.put("action", action);
        query.put("resourceType", resourceType);
        query.put("resourceId", resourceId);
        query.put("outcome", outcome);
        query.put("from", from);
        query.put("to", to);
        query.put("limit", limit);
        query.put("cursor", cursor);
        JsonNode page = engine().get("/api/v1/audit" + EngineClient.query(query));
        if (json) {
            out().json(page);
            return ExitCodes.OK;
        }
        Output.Table table = out().table("TIME", "ACTOR", "ACTION", "RESOURCE", "OUTCOME", "DETAIL");
        page.path("entries").forEach(e -> table.row(e.path("time").asText(), e.path("actorId").asText(),
                e.path("action").asText() + (e.hasNonNull("phase") ? " (" + e.path("phase").asText() + ")" : ""),
                e.path("resourceType").asText() + "/" + e.path("resourceName").asText(e.path("resourceId").asText()),
                e.path("outcome").asText(), e.path("error").asText(e.path("reason").asText(""))));
        table.print();
        if (page.hasNonNull("nextCursor")) {
            out().progress("more: atelier audit --cursor " + Text.cell(page.path("nextCursor").asText()));
        }
        return ExitCodes.OK;
    }
}
