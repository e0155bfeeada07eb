package dev.atelier.api;

import dev.atelier.domain.shared.Text;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditExport;
import dev.atelier.projections.audit.AuditFilter;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.projections.audit.AuditTrail;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The audit trail (docs/audit.md): query, export, verify for roles {@code auditor} and {@code owner}; purge and
 * rebuild for {@code owner}. Every read of the trail is itself recorded before the data goes out.
 */
@RestController
@RequestMapping("/api/v1/audit")
public class AuditController {

    private static final int MAX_PAGE = 1000;
    private static final Set<String> PAGING = Set.of("q", "limit", "cursor", "order");

    private final AuditTrail trail;
    private final AuditExport export;
    private final AuditRecorder recorder;
    private final Permits verifies;
    private final java.time.Duration minRetention;

    public AuditController(AuditTrail trail, AuditExport export, AuditRecorder recorder, ApiLimits limits,
                           @org.springframework.beans.factory.annotation.Value("${atelier.audit.min-retention:P365D}")
                           java.time.Duration minRetention) {
        this.trail = trail;
        this.export = export;
        this.recorder = recorder;
        this.verifies = new Permits(limits.concurrentVerifies(), "audit verify runs", "atelier.limits.concurrent-verifies");
        this.minRetention = minRetention;
    }

    /**
     * @param overrideMinRetention purge entries younger than {@code atelier.audit.min-retention} (recorded in the
     *                             purge's entry)
     */
    public record PurgeRequest(@NotNull Instant before, Boolean overrideMinRetention) {
    }

    @GetMapping
    public Mono<AuditTrail.Page> list(@RequestParam MultiValueMap<String, String> params,
                                      @AuthenticationPrincipal AtelierPrincipal caller, ServerWebExchange exchange) {
        Access.requireAny(caller, Role.AUDITOR);
        Map<String, String> given = parameters(params, PAGING);
        AuditFilter filter = AuditFilter.parse(given, given.get("q"));
        int limit = limit(given.get("limit"));
        boolean ascending = ascending(given.get("order"), false);
        String cursor = given.get("cursor");
        AuditTrail.checkCursor(cursor);
        Map<String, String> details = new LinkedHashMap<>(filter.describe());
        details.put("limit", Integer.toString(limit));
        if (cursor != null) {
            details.put("cursor", cursor);
        }
        return record("read", details, caller, exchange)
                .then(Mono.fromCallable(() -> trail.page(filter, limit, cursor, ascending))
                        .subscribeOn(Schedulers.boundedElastic()));
    }

    /** JSON Lines or CSV of every entry the filters select, oldest first unless {@code order=desc}, streamed. */
    @GetMapping("/export")
    public Mono<ResponseEntity<Flux<DataBuffer>>> export(@RequestParam MultiValueMap<String, String> params,
                                                         @AuthenticationPrincipal AtelierPrincipal caller,
                                                         ServerWebExchange exchange) {
        Access.requireAny(caller, Role.AUDITOR);
        Map<String, String> given = parameters(params, Set.of("q", "format", "order"));
        AuditFilter filter = AuditFilter.parse(given, given.get("q"));
        AuditExport.Format format = AuditExport.Format.parse(given.getOrDefault("format", "jsonl"));
        boolean ascending = ascending(given.get("order"), true);
        Map<String, String> details = new LinkedHashMap<>(filter.describe());
        details.put("format", format.extension());
        String file = "atelier-audit-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(Instant.now()) + "." + format.extension();
        return record("export", details, caller, exchange)
                .then(Mono.fromCallable(() -> export.export(filter, ascending, format,
                        exchange.getResponse().bufferFactory())))
                .map(body -> ResponseEntity.ok()
                        .contentType(MediaType.parseMediaType(format.contentType() + ";charset=UTF-8"))
                        .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"" + file + "\"")
                        .body(body));
    }

    /**
     * Recomputes the hash chain. {@code anchorSeq}/{@code anchorHash}: a {@code signedHead} kept from an earlier
     * verify, checked to be still part of the chain.
     */
    @GetMapping("/verify")
    public Mono<AuditTrail.Verification> verify(@RequestParam(required = false) Long anchorSeq,
                                                @RequestParam(required = false) String anchorHash,
                                                @AuthenticationPrincipal AtelierPrincipal caller,
                                                ServerWebExchange exchange) {
        Access.requireAny(caller, Role.AUDITOR);
        if ((anchorSeq == null) != (anchorHash == null)) {
            throw ApiProblem.badRequest("anchorSeq and anchorHash go together (a signedHead of an earlier verify)");
        }
        Map<String, String> details = new LinkedHashMap<>();
        if (anchorSeq != null) {
            details.put("anchorSeq", anchorSeq.toString());
        }
        return verifies.run(record("verify", details, caller, exchange)
                .then(Mono.fromCallable(() -> trail.verify(anchorSeq, anchorHash)).subscribeOn(Schedulers.boundedElastic())));
    }

    /** Whether the trail has caught up with the event store (not audited: it shows no entries). */
    @GetMapping("/status")
    public Mono<AuditTrail.Status> status(@AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.AUDITOR);
        return Mono.fromCallable(trail::status).subscribeOn(Schedulers.boundedElastic());
    }

    /** Retention: removes the entries before {@code before}, keeping a signed checkpoint. Owners only. */
    @PostMapping("/purge")
    public Mono<AuditTrail.Purge> purge(@Valid @RequestBody PurgeRequest request,
                                        @AuthenticationPrincipal AtelierPrincipal caller, ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        if (!request.before().isBefore(Instant.now())) {
            throw ApiProblem.badRequest("before (" + request.before() + ") must be in the past");
        }
        boolean override = Boolean.TRUE.equals(request.overrideMinRetention());
        Instant keepFrom = Instant.now().minus(minRetention);
        if (request.before().isAfter(keepFrom) && !override) {
            throw ApiProblem.conflict("the trail keeps at least " + minRetention + " (atelier.audit.min-retention): "
                    + "before must be at or before " + keepFrom.truncatedTo(ChronoUnit.SECONDS)
                    + "; to purge younger entries, send \"overrideMinRetention\": true (the override is recorded)");
        }
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("minRetention", minRetention.toString());
        if (request.before().isAfter(keepFrom)) {
            extra.put("minRetentionOverridden", "true");
        }
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> trail.purge(request.before().truncatedTo(ChronoUnit.MICROS), caller.subject(),
                metadata, extra)).subscribeOn(Schedulers.boundedElastic());
    }

    /** Rebuilds the trail from the event store (resets the {@code audit} processor). Owners only. */
    @PostMapping("/rebuild")
    public Mono<ResponseEntity<Map<String, Object>>> rebuild(@AuthenticationPrincipal AtelierPrincipal caller,
                                                             ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        return record("rebuild", Map.of(), caller, exchange)
                .then(Mono.fromRunnable(trail::rebuild).subscribeOn(Schedulers.boundedElastic()))
                .then(Mono.fromCallable(() -> ResponseEntity.status(HttpStatus.ACCEPTED).body(Map.<String, Object>of(
                        "status", "rebuilding",
                        "detail", "the audit processor replays the event store; GET /api/v1/audit/status shows "
                                + "when it has caught up"))));
    }

    private Mono<Void> record(String action, Map<String, String> details, AtelierPrincipal caller,
                              ServerWebExchange exchange) {
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        AuditRecordedEvent event = new AuditRecordedEvent(action, AuditEntry.COMPLETED, "audit", null,
                AuditEntry.SUCCESS, 200, null, details);
        return Mono.fromRunnable(() -> recorder.record(event, metadata)).subscribeOn(Schedulers.boundedElastic()).then();
    }

    /** Single values by name; a repeated filter parameter means "any of" (like a comma-separated one). */
    private static Map<String, String> parameters(MultiValueMap<String, String> params, Set<String> extra) {
        Set<String> known = new TreeSet<>(AuditFilter.parameterNames());
        known.addAll(extra);
        Map<String, String> given = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        params.forEach((name, values) -> {
            if (!known.contains(name)) {
                unknown.add(name);
            } else {
                given.put(name, String.join(",", values));
            }
        });
        if (!unknown.isEmpty()) {
            throw ApiProblem.badRequest("unknown parameter" + (unknown.size() > 1 ? "s " : " ")
                    + String.join(", ", unknown.subList(0, Math.min(5, unknown.size())))
                    + " (known: " + String.join(", ", known) + ")");
        }
        return given;
    }

    private static int limit(String value) {
        if (value == null) {
            return 50;
        }
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= MAX_PAGE) {
                return limit;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw ApiProblem.badRequest("limit must be between 1 and " + MAX_PAGE + ", was " + Text.quote(value));
    }

    private static boolean ascending(String order, boolean byDefault) {
        if (order == null) {
            return byDefault;
        }
        return switch (order.toLowerCase(java.util.Locale.ROOT)) {
            case "asc" -> true;
            case "desc" -> false;
            default -> throw ApiProblem.badRequest("order " + Text.quote(order) + " is unknown (known: asc, desc)");
        };
    }
}
