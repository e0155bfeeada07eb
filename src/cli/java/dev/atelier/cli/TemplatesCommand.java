package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Templates to create workspaces from; with an id or name, one template and its parameters. */
@Command(name = "templates", description = "List templates, or show one with its parameters.")
final class TemplatesCommand extends AtelierCommand {

    @Parameters(arity = "0..1", paramLabel = "TEMPLATE", description = "A template id or name: show its details.")
    String template;

    @Option(names = "--archived", description = "Include archived templates.")
    boolean archived;

    @Override
    int execute() {
        if (template != null) {
            JsonNode found = find(engine(), template);
            if (json) {
                out().json(found);
                return ExitCodes.OK;
            }
            out().line(Text.cell(found.path("name").asText()) + "  (id " + found.path("id").asText() + ", version "
                    + found.path("version").asText() + ", provider " + Text.cell(found.path("provider").asText()) + ")");
            if (found.hasNonNull("description")) {
                out().line(Text.cell(found.path("description").asText()));
            }
            Output.Table parameters = out().table("PARAMETER", "DEFAULT", "DESCRIPTION");
            found.path("parameters").forEach(p -> parameters.row(p.path("name").asText(),
                    p.hasNonNull("defaultValue") ? p.path("defaultValue").asText() : null,
                    p.hasNonNull("description") ? p.path("description").asText() : null));
            parameters.print();
            return ExitCodes.OK;
        }
        JsonNode list = engine().get("/api/v1/templates" + (archived ? "?includeArchived=true" : ""));
        if (json) {
            out().json(list);
            return ExitCodes.OK;
        }
        Output.Table table = out().table("NAME", "VERSION", "PROVIDER", "ID", "DESCRIPTION");
        list.path("templates").forEach(t -> table.row(t.path("name").asText() + (t.path("archived").asBoolean() ? " (archived)" : ""),
                t.path("version").asText(), t.path("provider").asText(), t.path("id").asText(),
                abbreviate(t.path("description").asText(""))));
        table.print();
        return ExitCodes.OK;
    }

    /** A template by id or by name (names are looked up in the list, archived ones included). */
    static JsonNode find(EngineClient engine, String reference) {
        for (JsonNode t : engine.get("/api/v1/templates?includeArchived=true").path("templates")) {
            if (reference.equals(t.path("id").asText()) || reference.equals(t.path("name").asText())) {
                return t;
            }
        }
        throw new CliException(ExitCodes.NOT_FOUND, "no template " + Text.cell(reference) + " (atelier templates lists them)");
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }
}
