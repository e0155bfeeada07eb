package dev.atelier.api;

import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.shared.Text;
import dev.atelier.projections.audit.AuditExport;
import dev.atelier.projections.audit.AuditTrail;
import dev.atelier.security.SecurityConfiguration;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.bind.support.WebExchangeBindException;
import org.springframework.web.reactive.result.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.ServerWebInputException;
import reactor.core.publisher.Mono;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/**
 * Turns every error into RFC 7807 problem+json with a {@code detail} a person can act on. {@link AuditWebFilter}
 * records every error answer of the API in the audit trail, with this detail.
 */
@RestControllerAdvice
public class ApiErrors extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

    @ExceptionHandler(Throwable.class)
    public Mono<ResponseEntity<Object>> handle(Throwable error, ServerWebExchange exchange) {
        Throwable e = unwrap(error);
        if (e instanceof InputRefused refused) {
            return respond(HttpStatus.BAD_REQUEST, refused.getMessage(), exchange);
        }
        if (e instanceof ApiProblem problem) {
            if (problem.concealed()) {
                exchange.getAttributes().put(AuditWebFilter.DENIED, Boolean.TRUE);
            }
            return respond(problem.status(), problem.getMessage(), exchange);
        }
        if (e instanceof AuditExport.BusyException busy) {
            return respond(HttpStatus.TOO_MANY_REQUESTS, busy.getMessage(), exchange);
        }
        if (e instanceof AuditTrail.ChainBrokenException broken) {
            return respond(HttpStatus.CONFLICT, broken.getMessage(), exchange);
        }
        if (e instanceof DomainRuleViolation violation) {
            HttpStatus status = switch (violation.kind()) {
                case CONFLICT -> HttpStatus.CONFLICT;
                case INVALID -> HttpStatus.BAD_REQUEST;
                case NOT_FOUND -> HttpStatus.NOT_FOUND;
            };
            return respond(status, violation.getMessage(), exchange);
        }
        if (e instanceof AggregateNotFoundException notFound) {
            return respond(HttpStatus.NOT_FOUND, "no such resource: " + notFound.getAggregateIdentifier(), exchange);
        }
        if (e instanceof ConcurrencyException) {
            return respond(HttpStatus.CONFLICT, "the resource was changed at the same time by another request; retry",
                    exchange);
        }
        if (e instanceof WebExchangeBindException || e instanceof ServerWebInputException
                || e instanceof org.springframework.web.ErrorResponse) {
            return handleException((Exception) e, exchange);
        }
        if (e instanceof IllegalArgumentException) {
            return respond(HttpStatus.BAD_REQUEST, e.getMessage(), exchange);
        }
        String requestId = exchange.getRequest().getId();
        log.error("request {} {} {} failed", requestId, exchange.getRequest().getMethod(),
                exchange.getRequest().getPath(), e);
        return respond(HttpStatus.INTERNAL_SERVER_ERROR, "internal error (request " + requestId
                + "); the engine log has the details", exchange);
    }

    @Override
    protected Mono<ResponseEntity<Object>> handleWebExchangeBindException(WebExchangeBindException ex,
            org.springframework.http.HttpHeaders headers, HttpStatusCode status, ServerWebExchange exchange) {
        String detail = ex.getFieldErrors().stream().map(f -> f.getField() + ": " + f.getDefaultMessage())
                .sorted().collect(Collectors.joining("; "));
        return respond(HttpStatus.BAD_REQUEST, "invalid request: " + detail, exchange);
    }

    @Override
    protected Mono<ResponseEntity<Object>> handleServerWebInputException(ServerWebInputException ex,
            org.springframework.http.HttpHeaders headers, HttpStatusCode status, ServerWebExchange exchange) {
        return respond(HttpStatus.BAD_REQUEST, describe(ex), exchange);
    }

    private static String describe(ServerWebInputException ex) {
        Throwable cause = ex.getMostSpecificCause();
        if (cause instanceof UnrecognizedPropertyException unknown) {
            return "unknown field " + Text.quote(unknown.getPropertyName()) + " in request body";
        }
        if (cause instanceof InvalidFormatException invalid) {
            // The value is not echoed: the field's name and what it takes say enough.
            return "invalid value for field " + Text.quote(path(invalid))
                    + (invalid.getTargetType() != null && invalid.getTargetType().isEnum()
                    ? " (allowed: " + java.util.Arrays.toString(invalid.getTargetType().getEnumConstants()) + ")"
                    : invalid.getTargetType() != null ? " (expected " + invalid.getTargetType().getSimpleName() + ")"
                    : "");
        }
        if (cause instanceof MismatchedInputException mismatched) {
            return "field " + Text.quote(path(mismatched)) + " has the wrong type";
        }
        if (cause instanceof com.fasterxml.jackson.databind.JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            return "invalid value for field " + Text.quote(path(mapping));
        }
        if (cause instanceof com.fasterxml.jackson.core.JsonProcessingException json) {
            var location = json.getLocation();
            return "request body is not valid JSON" + (location == null ? ""
                    : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")");
        }
        if (cause instanceof InputRefused refused) {
            return refused.getMessage();
        }
        if (cause instanceof java.time.DateTimeException || cause instanceof ArithmeticException) {
            return "a time or duration in the request is out of range";
        }
        return ex.getReason() != null ? ex.getReason() : "invalid request";
    }

    private static String path(com.fasterxml.jackson.databind.JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    static Throwable unwrap(Throwable e) {
        Throwable current = e;
        while ((current instanceof CompletionException || current instanceof ExecutionException
                || current instanceof CommandExecutionException) && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    private static Mono<ResponseEntity<Object>> respond(HttpStatus status, String raw, ServerWebExchange exchange) {
        String detail = safeDetail(raw);
        exchange.getAttributes().put(SecurityConfiguration.PROBLEM_DETAIL, detail);
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setInstance(instance(exchange));
        return Mono.just(ResponseEntity.status(status)
                .contentType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON).body(problem));
    }

    /** Longest {@code detail} answered (and recorded in the audit trail). */
    static final int MAX_DETAIL = 2000;

    /**
     * The last line of defence for a {@code detail}, whatever produced it: control characters and unpaired surrogates
     * escaped (so that no NUL ever reaches the audit trail), and at most {@value #MAX_DETAIL} characters.
     */
    static String safeDetail(String detail) {
        if (detail == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(Math.min(detail.length(), MAX_DETAIL + 16));
        for (int i = 0; i < detail.length() && out.length() < MAX_DETAIL; i++) {
            char c = detail.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < detail.length() && Character.isLowSurrogate(detail.charAt(i + 1))) {
                out.append(c).append(detail.charAt(++i));
            } else if ((Text.isControl(c) && c != '\n') || Character.isSurrogate(c)) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        if (out.length() >= MAX_DETAIL && detail.length() > MAX_DETAIL) {
            out.setLength(MAX_DETAIL);
            out.append(" …");
        }
        return out.toString();
    }

    /** The problem's {@code instance}: the request path, when it is a valid URI reference of a sane length. */
    static java.net.URI instance(ServerWebExchange exchange) {
        String path = exchange.getRequest().getPath().value();
        if (path.length() > 300) {
            return null;
        }
        try {
            return java.net.URI.create(path);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
