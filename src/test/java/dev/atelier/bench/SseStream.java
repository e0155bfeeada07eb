package dev.atelier.bench;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;

/** One server-sent-event stream of the API, read line by line as it arrives. */
final class SseStream implements Flow.Subscriber<String>, AutoCloseable {

    /** Called for every event with data, on an HTTP client thread, as soon as its last line arrived. */
    interface Listener {
        void onEvent(String id, String data, long arrivalNanos);
    }

    private final Listener listener;
    private final AtomicLong received = new AtomicLong();
    private volatile Flow.Subscription subscription;
    private volatile Throwable error;
    private String id;
    private StringBuilder data;

    private SseStream(Listener listener) {
        this.listener = listener;
    }

    static SseStream open(BenchHttp http, String baseUrl, String path, String token, Listener listener) {
        SseStream stream = new SseStream(listener);
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream")
                .timeout(Duration.ofHours(1)).GET().build();
        http.client.sendAsync(request, HttpResponse.BodyHandlers.fromLineSubscriber(stream))
                .whenComplete((response, e) -> {
                    if (e != null) {
                        stream.error = e;
                    } else if (response.statusCode() != 200) {
                        stream.error = new IllegalStateException("watch answered HTTP " + response.statusCode());
                    }
                });
        return stream;
    }

    long received() {
        return received.get();
    }

    Throwable error() {
        return error;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
        if (line.isEmpty()) {
            if (data != null) {
                received.incrementAndGet();
                listener.onEvent(id, data.toString(), System.nanoTime());
            }
            id = null;
            data = null;
        } else if (line.startsWith("data:")) {
            String value = strip(line.substring(5));
            data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
        } else if (line.startsWith("id:")) {
            id = strip(line.substring(3));
        }
        // "event:" and ":" comments (keep-alives) carry nothing the benchmark needs
    }

    private static String strip(String value) {
        return value.startsWith(" ") ? value.substring(1) : value;
    }

    @Override
    public void onError(Throwable throwable) {
        error = throwable;
    }

    @Override
    public void onComplete() {
    }

    @Override
    public void close() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }
}
