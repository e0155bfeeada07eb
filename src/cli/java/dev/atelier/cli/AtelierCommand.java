package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * What every subcommand shares: {@code --url} and {@code --json}, the engine client with the credentials that apply,
 * and the exit code as the return value ({@link ExitCodes}).
 */
abstract class AtelierCommand implements Callable<Integer> {

    @ParentCommand
    Atelier root;

    @Option(names = "--url", paramLabel = "URL",
            description = "The engine, e.g. https://atelier.example.com (default: ATELIER_URL, else the URL saved by login).")
    String url;

    @Option(names = "--json", description = "Print JSON for scripts instead of a table.")
    boolean json;

    private EngineClient engine;
    private Output output;

    @Override
    public final Integer call() {
        return execute();
    }

    abstract int execute();

    CliEnvironment env() {
        return root.env;
    }

    Output out() {
        if (output == null) {
            output = new Output(env(), json);
        }
        return output;
    }

    /** The engine's URL: {@code --url}, ATELIER_URL, the saved one; null when none is known. */
    String engineUrl() {
        if (url != null) {
            return url;
        }
        String fromEnv = env().get("ATELIER_URL");
        return fromEnv != null ? fromEnv : Credentials.load(env()).map(Credentials::url).orElse(null);
    }

    /**
     * The client with ATELIER_TOKEN, else the saved token, which is sent only to the engine it was saved for (pointing
     * ATELIER_URL elsewhere never hands it to another server). An expired device-flow token is refreshed first.
     */
    EngineClient engine() {
        if (engine != null) {
            return engine;
        }
        String address = engineUrl();
        if (address == null) {
            throw new CliException(ExitCodes.UNAUTHENTICATED, "no engine given: run 'atelier login --url URL' or set ATELIER_URL");
        }
        URI base = EngineClient.baseUri(address);
        String token = env().get("ATELIER_TOKEN");
        if (token == null) {
            Credentials saved = Credentials.load(env())
                    .filter(c -> c.url() != null && EngineClient.baseUri(c.url()).equals(base)).orElse(null);
            if (saved == null) {
                throw new CliException(ExitCodes.UNAUTHENTICATED, "not signed in to " + base
                        + ": run 'atelier login', or set ATELIER_TOKEN");
            }
            token = fresh(saved).token();
        }
        engine = new EngineClient(address, token);
        return engine;
    }

    /** The saved credentials, with a refreshed access token when a device-flow token expired and can be refreshed. */
    private Credentials fresh(Credentials saved) {
        if (!saved.expired(Instant.now())) {
            return saved;
        }
        if (saved.refreshToken() == null || saved.tokenEndpoint() == null) {
            throw new CliException(ExitCodes.UNAUTHENTICATED, "the saved sign-in expired: run 'atelier login' again");
        }
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "refresh_token");
        form.put("refresh_token", saved.refreshToken());
        form.put("client_id", saved.clientId());
        HttpResponse<String> answer = new EngineClient(saved.url(), null).postForm(URI.create(saved.tokenEndpoint()), form);
        JsonNode body = EngineClient.parse(answer.body());
        if (answer.statusCode() != 200 || body == null || !body.hasNonNull("access_token")) {
            throw new CliException(ExitCodes.UNAUTHENTICATED, "the saved sign-in expired and could not be refreshed: "
                    + "run 'atelier login' again");
        }
        Credentials refreshed = DeviceLogin.credentials(saved.url(), body, saved.tokenEndpoint(), saved.clientId(),
                saved.refreshToken());
        refreshed.save(env());
        return refreshed;
    }
}
