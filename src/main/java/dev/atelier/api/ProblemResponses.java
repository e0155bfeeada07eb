package dev.atelier.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.security.SecurityConfiguration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

import java.time.Duration;

/** Problem+json answers written by web filters (which run outside the controllers' error handling). */
final class ProblemResponses {

    private ProblemResponses() {
    }

    static Mono<Void> write(ServerWebExchange exchange, ObjectMapper json, HttpStatus status, String detail) {
        return write(exchange, json, status, detail, null);
    }

    static Mono<Void> write(ServerWebExchange exchange, ObjectMapper json, HttpStatus status, String detail,
                            Duration retryAfter) {
        String safe = ApiErrors.safeDetail(detail);
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, safe);
        problem.setInstance(ApiErrors.instance(exchange));
        exchange.getAttributes().put(SecurityConfiguration.PROBLEM_DETAIL, safe);
        var response = exchange.getResponse();
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (retryAfter != null) {
            response.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, retryAfter.toSeconds())));
        }
        try {
            byte[] body = json.writeValueAsBytes(problem);
            return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
        } catch (Exception e) {
            return Mono.error(e);
        }
    }
}
