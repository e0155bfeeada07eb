package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * Saves the engine's URL and a token in ~/.config/atelier/credentials (0600). With {@code --token} (or
 * {@code --token-stdin}) an API token, checked against {@code GET /api/v1/users/me} before it is saved; without, the
 * OIDC device flow ({@link DeviceLogin}). The token is never printed.
 */
@Command(name = "login", description = "Sign in: save the engine URL and a token (API token, or OIDC device flow).")
final class LoginCommand extends AtelierCommand {

    @Option(names = "--token", paramLabel = "TOKEN", description = "An API token (atl_...). Prefer --token-stdin: "
            + "arguments are visible to other users in the process list.")
    String token;

    @Option(names = "--token-stdin", description = "Read the API token from standard input.")
    boolean tokenStdin;

    @Override
    int execute() {
        String address = engineUrl();
        if (address == null) {
            throw new CliException(ExitCodes.USAGE, "which engine? give --url URL or set ATELIER_URL");
        }
        String base = EngineClient.baseUri(address).toString();
        String secret = tokenStdin ? readToken() : token;
        Credentials credentials;
        if (secret != null) {
            if (secret.isBlank()) {
                throw new CliException(ExitCodes.USAGE, "the token is empty");
            }
            credentials = Credentials.apiToken(base, secret.strip());
        } else {
            credentials = new DeviceLogin(new EngineClient(base, null), out(), Clock.systemUTC(), d -> Thread.sleep(d.toMillis()))
                    .login(base);
        }
        JsonNode me = new EngineClient(base, credentials.token()).get("/api/v1/users/me");
        credentials.save(env());
        if (json) {
            out().json(me);
        } else {
            out().line("Signed in to " + base + " as " + Text.cell(me.path("id").asText()) + " (roles: "
                    + Text.cell(String.join(", ", rolesOf(me))) + ")");
        }
        return ExitCodes.OK;
    }

    private static java.util.List<String> rolesOf(JsonNode me) {
        java.util.List<String> roles = new java.util.ArrayList<>();
        me.path("roles").forEach(r -> roles.add(r.asText()));
        return roles;
    }

    private String readToken() {
        try {
            String line = new BufferedReader(new InputStreamReader(env().stdin(), StandardCharsets.UTF_8)).readLine();
            return line == null ? "" : line;
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot read the token from standard input");
        }
    }
}
