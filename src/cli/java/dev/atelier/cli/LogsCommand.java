package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;

/**
 * A workspace's log: its history of lifecycle events ({@code GET /api/v1/workspaces/{id}/history}: builds, failures
 * and their errors, who did what and why), and with {@code --follow} its status changes as they happen (the watch
 * stream). The engine keeps no console output of workspaces; this is what it knows.
 */
@Command(name = "logs", description = "Show a workspace's lifecycle history; --follow streams status changes.")
final class LogsCommand extends AtelierCommand {

    @Parameters(paramLabel = "WORKSPACE", description = "Name, <owner>.<name> or id.")
    String workspace;

    @Option(names = {"-f", "--follow"}, description = "Keep printing status changes until interrupted (Ctrl-C).")
    boolean follow;

    @Override
    int execute() {
        JsonNode found = new Workspaces(engine()).find(workspace);
        String id = found.path("id").asText();
        JsonNode history = engine().get("/api/v1/workspaces/" + id + "/history");
        if (json) {
            out().json(history);
        } else {
            Output.Table table = out().table("TIME", "EVENT", "BUILD", "ACTOR", "REASON", "ERROR");
            history.path("events").forEach(e -> table.row(e.path("time").asText(), e.path("type").asText(),
                    e.path("buildNumber").asText(), e.path("actor").asText(), e.path("reason").asText(),
                    e.path("data").path("error").asText(e.path("error").asText(""))));
            table.print();
        }
        if (follow) {
            while (true) {
                engine().watch("/api/v1/workspaces/" + id + "/watch", Duration.ofDays(365), view -> {
                    if (json) {
                        out().line(view.toString());
                    } else {
                        out().line(java.time.Instant.now() + "  " + view.path("status").asText() + "  build "
                                + view.path("buildNumber").asText() + (view.path("lastTransition").hasNonNull("error")
                                ? "  " + Text.cell(view.path("lastTransition").path("error").asText()) : ""));
                    }
                    return false;
                });
            }
        }
        return ExitCodes.OK;
    }
}
