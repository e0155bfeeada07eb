package dev.atelier.api;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.config.DeadLetters;
import dev.atelier.domain.shared.Text;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditProjection;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.projections.audit.AuditTrail;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Events a processing group parked because they kept failing (docs/operations.md), for role {@code owner}: list,
 * retry (the letter's whole sequence, after the cause was fixed), evict (never handle it). Every call is recorded in
 * the audit trail, with the event it concerns.
 */
@RestController
@RequestMapping("/api/v1/dead-letters")
public class DeadLetterController {

    private static final int MAX_PAGE = 500;

    private final DeadLetters deadLetters;
    private final AuditRecorder recorder;
    private final AuditTrail trail;

    public DeadLetterController(DeadLetters deadLetters, AuditRecorder recorder, AuditTrail trail) {
        this.deadLetters = deadLetters;
        this.recorder = recorder;
        this.trail = trail;
    }

    public record Listing(Map<String, Long> counts, List<DeadLetters.Letter> deadLetters) {
    }

    public record RetryResult(String id, boolean handled, DeadLetters.Letter stillParked) {
    }

    @GetMapping
    public Mono<Listing> list(@RequestParam(required = false) String group,
                              @RequestParam(defaultValue = "100") int limit,
                              @AuthenticationPrincipal AtelierPrincipal caller, ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        if (limit < 1 || limit > MAX_PAGE) {
            throw ApiProblem.badRequest("limit must be between 1 and " + MAX_PAGE);
        }
        if (group != null && !deadLetters.groups().contains(group)) {
            throw ApiProblem.badRequest("group " + Text.quote(group) + " has no dead-letter queue (groups: "
                    + String.join(", ", deadLetters.groups()) + ")");
        }
        Map<String, String> details = new LinkedHashMap<>();
        if (group != null) {
            details.put("group", group);
        }
        details.put("limit", Integer.toString(limit));
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
            recorder.record(new AuditRecordedEvent("list", AuditEntry.COMPLETED, "dead-letter", null,
                    AuditEntry.SUCCESS, 200, null, details), metadata);
            return new Listing(deadLetters.counts(), deadLetters.list(group, limit));
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /** Retries the letter's sequence from its oldest letter; 200 either way, {@code handled} says how it went. */
    @PostMapping("/{id}/retry")
    public Mono<RetryResult> retry(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                   ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
            DeadLetters.Letter letter = find(id);
            boolean handled = deadLetters.retry(letter);
            DeadLetters.Letter still = handled ? null : deadLetters.find(id).orElse(null);
            Map<String, String> details = describe(letter);
            details.put("handled", Boolean.toString(handled));
            recorder.record(new AuditRecordedEvent("retry", AuditEntry.COMPLETED, "dead-letter", id,
                    handled ? AuditEntry.SUCCESS : AuditEntry.FAILURE, 200,
                    handled || still == null ? null : still.causeMessage(), details), metadata);
            return new RetryResult(id, handled, still);
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /** Removes the letter for good; for the audit group the gap in the chain stays visible. */
    @DeleteMapping("/{id}")
    public Mono<ResponseEntity<Void>> evict(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                            ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
            DeadLetters.Letter letter = find(id);
            if (AuditProjection.PROCESSING_GROUP.equals(letter.group()) && letter.eventIndex() != null) {
                trail.noteGap(letter.eventIndex(), letter.eventId());
            }
            if (!deadLetters.evict(letter)) {
                throw ApiProblem.notFound("no dead letter " + Text.quote(id));
            }
            recorder.record(new AuditRecordedEvent("evict", AuditEntry.COMPLETED, "dead-letter", id,
                    AuditEntry.SUCCESS, 204, null, describe(letter)), metadata);
            return ResponseEntity.noContent().<Void>build();
        }).subscribeOn(Schedulers.boundedElastic());
    }

    private DeadLetters.Letter find(String id) {
        return deadLetters.find(id).orElseThrow(() -> ApiProblem.notFound("no dead letter " + Text.quote(id)));
    }

    private static Map<String, String> describe(DeadLetters.Letter letter) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("group", letter.group());
        details.put("eventId", letter.eventId());
        if (letter.eventIndex() != null) {
            details.put("eventIndex", Long.toString(letter.eventIndex()));
        }
        details.put("eventType", letter.eventType());
        if (letter.aggregateId() != null) {
            details.put("aggregateId", letter.aggregateId());
        }
        return details;
    }
}
