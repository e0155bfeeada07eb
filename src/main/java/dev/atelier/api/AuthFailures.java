package dev.atelier.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import org.reactivestreams.Publisher;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Failed authentication, limited per client address (docs/operations.md): every 401 of the API takes a token from
 * the address's bucket ({@code atelier.security.auth-failure-limit} per {@code auth-failure-window}, refilled
 * gradually, Bucket4j); once it is empty the answer is 429 with {@code Retry-After} instead. A request with a valid
 * token is never limited, so a good client behind the same address keeps working. Each such answer is handed to
 * {@link AnonymousDenials}: the first of an address in a minute is recorded on its own, the repeated ones as one
 * audit entry per address and minute instead of one event per request.
 * Its own filter (before Spring Security) so that it works whatever authenticates the request.
 */
@Component
@Order(-250)
public class AuthFailures implements WebFilter {

    /** Exchange attribute: this refusal is counted by {@link AnonymousDenials}, not recorded one by one. */
    public static final String AGGREGATED = "atelier.audit.aggregated";

    private final AbuseSettings settings;
    private final AnonymousDenials denials;
    private final ObjectMapper json;
    private final Cache<String, Bucket> buckets;

    public AuthFailures(AbuseSettings settings, AnonymousDenials denials, ObjectMapper json) {
        this.settings = settings;
        this.denials = denials;
        this.json = json;
        this.buckets = Caffeine.newBuilder().maximumSize(settings.maxTrackedAddresses())
                .expireAfterAccess(settings.authFailureWindow().multipliedBy(2)).build();
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!exchange.getRequest().getPath().value().startsWith("/api/")) {
            return chain.filter(exchange);
        }
        return chain.filter(exchange.mutate().response(new Limited(exchange)).build());
    }

    /** Decides, when the answer is about to be written, whether a 401 stays a 401 or becomes a 429. */
    private final class Limited extends ServerHttpResponseDecorator {
        private final ServerWebExchange exchange;
        private final AtomicBoolean decided = new AtomicBoolean();
        private Duration retryAfter;

        Limited(ServerWebExchange exchange) {
            super(exchange.getResponse());
            this.exchange = exchange;
        }

        @Override
        public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
            if (decide()) {
                return tooMany();
            }
            return super.writeWith(body);
        }

        @Override
        public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
            if (decide()) {
                return tooMany();
            }
            return super.writeAndFlushWith(body);
        }

        @Override
        public Mono<Void> setComplete() {
            if (decide()) {
                return tooMany();
            }
            return super.setComplete();
        }

        /** @return true when the answer must become a 429 */
        private boolean decide() {
            if (!decided.compareAndSet(false, true) || getStatusCode() == null
                    || getStatusCode().value() != HttpStatus.UNAUTHORIZED.value()) {
                return false;
            }
            String address = ClientAddresses.of(exchange);
            boolean limited = false;
            if (settings.authFailureLimit() > 0 && address != null) {
                ConsumptionProbe probe = buckets.get(address, a -> newBucket()).tryConsumeAndReturnRemaining(1);
                if (!probe.isConsumed()) {
                    limited = true;
                    retryAfter = Duration.ofNanos(probe.getNanosToWaitForRefill());
                }
            }
            boolean first = denials.count(address, exchange.getRequest().getMethod().name(),
                    exchange.getRequest().getPath().value(), exchange.getRequest().getHeaders().getFirst("User-Agent"),
                    limited);
            if (!first) {
                exchange.getAttributes().put(AGGREGATED, Boolean.TRUE);
            }
            return limited;
        }

        private Mono<Void> tooMany() {
            ServerHttpResponse original = getDelegate();
            original.getHeaders().remove("WWW-Authenticate");
            long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
            ServerWebExchange plain = exchange.mutate().response(original).build();
            return ProblemResponses.write(plain, json, HttpStatus.TOO_MANY_REQUESTS,
                    "too many failed authentications from this address; retry after " + seconds + " s "
                            + "(atelier.security.auth-failure-limit: " + settings.authFailureLimit() + " per "
                            + settings.authFailureWindow() + ")", Duration.ofSeconds(seconds));
        }
    }

    private Bucket newBucket() {
        return Bucket.builder().addLimit(Bandwidth.builder().capacity(settings.authFailureLimit())
                .refillGreedy(settings.authFailureLimit(), settings.authFailureWindow()).build()).build();
    }

    /** For tests and operators: forget every address's failures. */
    public void reset() {
        buckets.invalidateAll();
    }
}
