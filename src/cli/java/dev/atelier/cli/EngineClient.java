package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The engine's HTTP API as the CLI uses it: JSON in and out with {@link HttpClient} and Jackson. A refusal
 * ({@code application/problem+json}) becomes a {@link CliException} whose message is {@code <title>: <detail>} and whose
 * exit code follows the status ({@link ExitCodes#forStatus}). The token only ever goes into the Authorization header.
 */
public final class EngineClient {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final URI base;
    private final String token;
    private final HttpClient http;

    public EngineClient(String url, String token) {
        this.base = baseUri(url);
        this.token = token;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** The engine's address without a trailing slash; only http and https. */
    static URI baseUri(String url) {
        URI uri;
        try {
            uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, "the engine URL is not a URL (ATELIER_URL or --url)");
        }
        if (uri.getHost() == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
            throw new CliException(ExitCodes.USAGE, "the engine URL must be http(s)://host[:port] (ATELIER_URL or --url)");
        }
        return uri;
    }

    public URI base() {
        return base;
    }

    public JsonNode get(String path) {
        return send("GET", path, null);
    }

    public JsonNode post(String path, Object body) {
        return send("POST", path, body);
    }

    public JsonNode delete(String path) {
        return send("DELETE", path, null);
    }

    public JsonNode send(String method, String path, Object body) {
        HttpRequest.Builder request = request(path).timeout(REQUEST_TIMEOUT).header("Accept", "application/json");
        if (body != null) {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(write(body)));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response = exchange(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw refusal(response.statusCode(), response.body());
        }
        String text = response.body();
        if (text == null || text.isBlank()) {
            return MissingNode.getInstance();
        }
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, method + " " + path + " answered " + response.statusCode()
                    + " with something that is not JSON");
        }
    }

    /** How a {@link #watch} ended. */
    public enum WatchResult { MATCHED, ENDED, TIMED_OUT }

    /**
     * Reads a server-sent event stream, handing each event's data (as JSON) to {@code onEvent} until it returns true
     * ({@code MATCHED}), the stream ends ({@code ENDED}) or {@code timeout} passes ({@code TIMED_OUT}: the stream is
     * closed). Comments (keep-alives) are skipped. An exception thrown by {@code onEvent} ends the watch and is rethrown.
     */
    public WatchResult watch(String path, Duration timeout, Predicate<JsonNode> onEvent) {
        HttpRequest request = request(path).header("Accept", "text/event-stream").GET().build();
        java.util.concurrent.atomic.AtomicReference<Stream<String>> open = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.CompletableFuture<WatchResult> reading = new java.util.concurrent.CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                reading.complete(read(request, open, onEvent));
            } catch (Throwable e) {
                reading.completeExceptionally(e);
            }
        }, "atelier-watch");
        reader.setDaemon(true);
        reader.start();
        try {
            return reading.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return WatchResult.TIMED_OUT;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new CliException(ExitCodes.ERROR, "watching failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.ERROR, "interrupted");
        } finally {
            Stream<String> lines = open.get();
            if (lines != null) {
                lines.close();
            }
            reader.interrupt();
        }
    }

    private WatchResult read(HttpRequest request, java.util.concurrent.atomic.AtomicReference<Stream<String>> open,
                             Predicate<JsonNode> onEvent) {
        HttpResponse<Stream<String>> response = exchange(request, HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = response.body()) {
            open.set(lines);
            if (response.statusCode() >= 300) {
                throw refusal(response.statusCode(), String.join("\n", (Iterable<String>) lines::iterator));
            }
            StringBuilder data = new StringBuilder();
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        JsonNode event = parse(data.toString());
                        data.setLength(0);
                        if (event != null && onEvent.test(event)) {
                            return WatchResult.MATCHED;
                        }
                    }
                } else if (line.startsWith("data:")) {
                    if (!data.isEmpty()) {
                        data.append('\n');
                    }
                    data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
                }
            }
            return WatchResult.ENDED;
        } catch (java.io.UncheckedIOException e) {
            return WatchResult.ENDED;
        }
    }

    /** Form-encoded POST to another server (the identity provider), answered with JSON; errors are returned, not thrown. */
    public HttpResponse<String> postForm(URI uri, Map<String, String> form) {
        String body = form(form);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return exchange(request, HttpResponse.BodyHandlers.ofString());
    }

    /** {@code ?k=v&...} of the non-null values, URL-encoded; empty when there are none. */
    public static String query(Map<String, ?> parameters) {
        Map<String, String> given = new LinkedHashMap<>();
        parameters.forEach((k, v) -> {
            if (v != null) {
                given.put(k, v.toString());
            }
        });
        return given.isEmpty() ? "" : "?" + form(given);
    }

    /** One path segment, URL-encoded (ids and names typed by the user never change the path). */
    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String form(Map<String, String> values) {
        StringBuilder out = new StringBuilder();
        values.forEach((k, v) -> {
            if (!out.isEmpty()) {
                out.append('&');
            }
            out.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        });
        return out.toString();
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path))
                .header("User-Agent", "atelier-cli");
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw new CliException(ExitCodes.UNAVAILABLE, "cannot reach " + request.uri().getScheme() + "://"
                    + request.uri().getAuthority() + " (is the engine running? ATELIER_URL)", e);
        } catch (IOException e) {
            throw new CliException(ExitCodes.UNAVAILABLE, "talking to " + request.uri().getAuthority() + " failed: "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.ERROR, "interrupted");
        }
    }

    /** {@code <title>: <detail>} of a problem+json answer, or the status when the body is something else. */
    static CliException refusal(int status, String body) {
        JsonNode problem = parse(body);
        String title = problem == null ? null : text(problem, "title");
        String detail = problem == null ? null : text(problem, "detail");
        String message;
        if (title != null && detail != null) {
            message = title + ": " + detail;
        } else if (title != null || detail != null) {
            message = title != null ? title : detail;
        } else {
            message = "the engine answered HTTP " + status;
        }
        if (status == 401) {
            message += " (run 'atelier login', or set ATELIER_TOKEN)";
        }
        return new CliException(ExitCodes.forStatus(status), Text.printable(message));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() || value.asText().isBlank() ? null : value.asText();
    }

    static JsonNode parse(String text) {
        try {
            JsonNode node = text == null || text.isBlank() ? null : JSON.readTree(text);
            return node != null && node.isObject() ? node : null;
        } catch (IOException e) {
            return null;
        }
    }

    static String write(Object body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
