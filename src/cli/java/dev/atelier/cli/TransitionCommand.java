package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** start, stop and delete: find the workspace, ask for the transition, wait for its end status. */
abstract class TransitionCommand extends AtelierCommand {

    @Parameters(paramLabel = "WORKSPACE", description = "Name, <owner>.<name> or id.")
    String workspace;

    @Mixin
    WaitOptions wait;

    /** The request: method and path under the workspace. */
    abstract JsonNode request(EngineClient engine, String id);

    abstract String target();

    abstract String verb();

    @Override
    int execute() {
        JsonNode found = new Workspaces(engine()).find(workspace);
        String id = found.path("id").asText();
        String name = found.path("name").asText();
        JsonNode accepted = request(engine(), id);
        JsonNode result = accepted;
        if (!wait.noWait) {
            out().progress(verb() + " " + name);
            result = new Workspaces(engine()).await(id, name, target(), accepted.path("buildNumber").asLong(),
                    wait.timeout, out());
        }
        if (json) {
            out().json(result == null ? accepted : result);
        } else if (wait.noWait) {
            out().line(name + " " + accepted.path("status").asText("accepted"));
        }
        return ExitCodes.OK;
    }
}
