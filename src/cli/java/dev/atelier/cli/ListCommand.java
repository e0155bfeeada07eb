package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Workspaces: yours, or (owners) everybody's or one owner's; deleted ones are left out. */
@Command(name = "ls", aliases = "list", description = "List workspaces (yours; owners see everybody's).")
final class ListCommand extends AtelierCommand {

    @Option(names = "--owner", paramLabel = "USER", description = "Only this owner's workspaces.")
    String owner;

    @Option(names = "--status", paramLabel = "STATUS", description = "Only workspaces in this status (RUNNING, STOPPED, ...).")
    String status;

    @Option(names = "--team", paramLabel = "TEAM", description = "Only this team's workspaces.")
    String team;

    @Override
    int execute() {
        Map<String, Object> filters = new LinkedHashMap<>();
        filters.put("status", status);
        filters.put("team", team);
        List<JsonNode> workspaces = new Workspaces(engine()).list(owner).stream()
                .filter(w -> status == null || status.equalsIgnoreCase(w.path("status").asText()))
                .filter(w -> team == null || team.equals(w.path("team").asText()))
                .toList();
        if (json) {
            ArrayNode array = EngineClient.JSON.createArrayNode();
            workspaces.forEach(array::add);
            out().json(EngineClient.JSON.createObjectNode().set("workspaces", array));
            return ExitCodes.OK;
        }
        Output.Table table = out().table("NAME", "OWNER", "STATUS", "PROVIDER", "TEMPLATE", "BUILD", "ID");
        workspaces.forEach(w -> table.row(w.path("name").asText(), w.path("owner").asText(), w.path("status").asText()
                        + (w.path("dormant").asBoolean() ? " (dormant)" : ""), w.path("provider").asText(),
                w.path("templateId").asText() + ":" + w.path("templateVersion").asText(), w.path("buildNumber").asText(),
                w.path("id").asText()));
        table.print();
        return ExitCodes.OK;
    }
}
