package dev.atelier.api;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.SecurityConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Records every API request answered with an error in the audit trail: rejected commands (400, 409), denials (401,
 * 403, and a 404 for a resource the caller may not see, which the caller cannot tell from one that does not exist)
 * and failures; not a GET of something that does not exist, and not each request without valid credentials
 * ({@link AnonymousDenials} records those as one entry per address and minute). Runs before Spring Security (so it also sees the answers of authentication) and records before the
 * response is committed: no caller hears "no" before the attempt is on record.
 */
@Component
@Order(-200) // before Spring Security's filter chain (-100)
public class AuditWebFilter implements WebFilter {

    /** Exchange attribute set when a 404 hides a resource that exists: recorded as {@code denied}. */
    public static final String DENIED = "atelier.audit.denied";
    static final String PRINCIPAL = "atelier.audit.principal";
    private static final Logger log = LoggerFactory.getLogger(AuditWebFilter.class);

    private final AuditRecorder recorder;

    public AuditWebFilter(AuditRecorder recorder) {
        this.recorder = recorder;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!exchange.getRequest().getPath().value().startsWith("/api/")) {
            return chain.filter(exchange);
        }
        exchange.getResponse().beforeCommit(() -> recordFailure(exchange));
        return chain.filter(exchange);
    }

    private Mono<Void> recordFailure(ServerWebExchange exchange) {
        HttpStatusCode status = exchange.getResponse().getStatusCode();
        if (status == null || status.value() < 400) {
            return Mono.empty();
        }
        if (Boolean.TRUE.equals(exchange.getAttribute(AuthFailures.AGGREGATED))) {
            return Mono.empty(); // a request without valid credentials: counted by AnonymousDenials, one entry a minute
        }
        AtelierPrincipal caller = exchange.getAttribute(PRINCIPAL);
        boolean denied = status.value() == 401 || status.value() == 403
                || Boolean.TRUE.equals(exchange.getAttribute(DENIED));
        if (status.value() == 404 && !denied && exchange.getRequest().getMethod() == HttpMethod.GET) {
            // Reading something that does not exist changes nothing and reveals nothing (a client polling for a
            // workspace that is still being created); a 404 that hides an existing resource is recorded above.
            return Mono.empty();
        }
        String detail = exchange.getAttribute(SecurityConfiguration.PROBLEM_DETAIL);
        if (detail == null) {
            HttpStatus known = HttpStatus.resolve(status.value());
            detail = known == null ? "HTTP " + status.value() : known.getReasonPhrase();
        }
        String path = exchange.getRequest().getPath().value();
        AuditRoutes.Target target = AuditRoutes.of(exchange.getRequest().getMethod(), path);
        Map<String, String> details = new LinkedHashMap<>();
        details.put("method", exchange.getRequest().getMethod().name());
        details.put("path", path.length() <= 300 ? path : path.substring(0, 300));
        AuditRecordedEvent attempt = new AuditRecordedEvent(target.action(), AuditEntry.REQUESTED,
                target.resourceType(), target.resourceId(), denied ? AuditEntry.DENIED : AuditEntry.FAILURE,
                status.value(), detail, details);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromRunnable(() -> recorder.record(attempt, metadata))
                .subscribeOn(Schedulers.boundedElastic())
                .onErrorResume(e -> {
                    log.error("could not record the refused request {} {} ({}) in the audit trail",
                            exchange.getRequest().getMethod(), path, status.value(), e);
                    return Mono.empty();
                })
                .then();
    }

    /** After authentication: remembers who the caller is, for the record of a refusal further down. */
    @Component
    @Order(0)
    static class CallerCapture implements WebFilter {
        @Override
        public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
            if (!exchange.getRequest().getPath().value().startsWith("/api/")) {
                return chain.filter(exchange);
            }
            return exchange.getPrincipal()
                    .doOnNext(principal -> {
                        if (principal instanceof Authentication authentication
                                && authentication.getPrincipal() instanceof AtelierPrincipal caller) {
                            exchange.getAttributes().put(PRINCIPAL, caller);
                        }
                    })
                    .then(chain.filter(exchange));
        }
    }
}
