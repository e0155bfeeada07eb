package dev.atelier.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmark's HTTP client (the JDK's, HTTP/1.1 with keep-alive, like a CLI or a browser would use). Its
 * threads are named {@code bench-http-*} so that their CPU time is counted as the clients', not the engine's.
 */
final class BenchHttp implements AutoCloseable {

    final HttpClient client;
    private final ExecutorService executor;
    private final String base;

    BenchHttp(String base, int threads) {
        this.base = base;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** One call and when it was sent and answered ({@link System#nanoTime()}). */
    record Response(int status, String body, long sentNanos, long receivedNanos) {
        long latencyNanos() {
            return receivedNanos - sentNanos;
        }

        Response expect(int expected, String what) {
            if (status != expected) {
                throw new IllegalStateException(what + ": expected HTTP " + expected + ", got " + status + " " + body);
            }
            return this;
        }

        /** A string field of a flat JSON answer (enough for ids; avoids parsing whole documents in the clients). */
        String field(String name) {
            String key = "\"" + name + "\":\"";
            int at = body.indexOf(key);
            if (at < 0) {
                throw new IllegalStateException("no '" + name + "' in " + body);
            }
            int from = at + key.length();
            return body.substring(from, body.indexOf('"', from));
        }
    }

    HttpRequest request(String method, String path, String token, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token);
        if (json != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return b.build();
    }

    Response send(String method, String path, String token, String json) {
        HttpRequest request = request(method, path, token, json);
        long sent = System.nanoTime();
        try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body(), sent, System.nanoTime());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    CompletableFuture<Response> sendAsync(String method, String path, String token, String json) {
        HttpRequest request = request(method, path, token, json);
        long sent = System.nanoTime();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Response(r.statusCode(), r.body(), sent, System.nanoTime()));
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
