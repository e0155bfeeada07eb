package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;

/** Creates a workspace from a template and waits until it runs ({@code RUNNING in 4.2s}). */
@Command(name = "create", description = "Create a workspace from a template and wait until it runs.")
final class CreateCommand extends AtelierCommand {

    @Parameters(paramLabel = "NAME", description = "The workspace's name: lower-case letters, digits and '-'.")
    String name;

    @Option(names = {"-t", "--template"}, required = true, paramLabel = "TEMPLATE", description = "Template id or name.")
    String template;

    @Option(names = "--template-version", paramLabel = "N", description = "A template version (default: the active one).")
    Integer templateVersion;

    @Option(names = {"-p", "--param"}, paramLabel = "KEY=VALUE", description = "A template parameter; repeat for more.")
    Map<String, String> parameters = new LinkedHashMap<>();

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label; repeat for more.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--team", paramLabel = "TEAM", description = "The team the workspace belongs to (costs, budgets).")
    String team;

    @Option(names = "--owner", paramLabel = "USER", description = "Create it for somebody else (owners only).")
    String owner;

    @Option(names = "--kind", paramLabel = "KIND", description = "HUMAN (default) or AGENT.")
    String kind;

    @Mixin
    WaitOptions wait;

    @Override
    int execute() {
        if (!Workspaces.NAME.matcher(name).matches()) {
            throw new CliException(ExitCodes.USAGE, "a workspace name is 1-63 lower-case letters, digits and '-', "
                    + "starting and ending with a letter or digit");
        }
        String templateId = TemplatesCommand.find(engine(), template).path("id").asText();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("templateId", templateId);
        body.put("templateVersion", templateVersion);
        body.put("parameters", parameters);
        body.put("labels", labels);
        body.put("team", team);
        body.put("owner", owner);
        body.put("kind", kind == null ? null : kind.toUpperCase(java.util.Locale.ROOT));
        body.values().removeIf(v -> v == null);
        JsonNode created = engine().post("/api/v1/workspaces", body);
        String id = created.path("id").asText();
        JsonNode result = created;
        if (!wait.noWait) {
            out().progress("Creating " + name + " (" + id + ")");
            result = new Workspaces(engine()).await(id, name, "RUNNING", created.path("buildNumber").asLong(),
                    wait.timeout, out());
        }
        if (json) {
            out().json(result);
        } else {
            out().line(id);
        }
        return ExitCodes.OK;
    }
}
