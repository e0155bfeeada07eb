package dev.atelier.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A browser, as far as the login needs one: cookies, and redirects followed one by one (so each hop can be looked
 * at), no JavaScript.
 */
public final class BrowserSession {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String engine;
    private final CookieManager cookies = new CookieManager();
    private final HttpClient http;
    /** Every response of the last {@link #follow}, first hop first. */
    public final List<HttpResponse<String>> hops = new ArrayList<>();

    public BrowserSession(String engine) {
        this.engine = engine;
        this.http = HttpClient.newBuilder().cookieHandler(cookies).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** GETs {@code path} of the engine and follows redirects (at most ten), wherever they lead. */
    public HttpResponse<String> follow(String path) {
        hops.clear();
        URI next = URI.create(engine + path);
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(next).GET());
            hops.add(response);
            Optional<String> location = response.headers().firstValue("Location");
            if (response.statusCode() / 100 != 3 || location.isEmpty()) {
                return response;
            }
            next = next.resolve(location.get());
        }
        throw new AssertionError("more than ten redirects: " + hops);
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(engine + path)).GET());
    }

    /** A JSON write with the session cookie; {@code csrf} the X-XSRF-TOKEN header's value, or null for none. */
    public HttpResponse<String> send(String method, String path, Object body, String csrf) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(engine + path))
                .header("Content-Type", "application/json");
        if (csrf != null) {
            request.header("X-XSRF-TOKEN", csrf);
        }
        try {
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
        return send(request);
    }

    public Optional<String> cookie(String name) {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals(name))
                .map(HttpCookie::getValue).findFirst();
    }

    public static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + response.statusCode() + "): " + response.body(), e);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
