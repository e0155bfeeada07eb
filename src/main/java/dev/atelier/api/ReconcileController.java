package dev.atelier.api;

import dev.atelier.domain.shared.Text;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.audit.AuditRecorder;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.reconcile.Reconciliation;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reconciliation for role {@code owner} (docs/operations.md): run it now instead of waiting for
 * {@code atelier.reconcile.interval}, list the orphans it found, and delete one through its provider. Every call is
 * recorded in the audit trail; drifts are recorded by the Workspace aggregate's events.
 */
@RestController
@RequestMapping("/api/v1")
public class ReconcileController {

    private final Reconciliation reconciliation;
    private final AuditRecorder recorder;

    public ReconcileController(Reconciliation reconciliation, AuditRecorder recorder) {
        this.reconciliation = reconciliation;
        this.recorder = recorder;
    }

    public record Orphans(List<Reconciliation.Orphan> orphans) {
    }

    /** Runs now; {@code ran: false} when a run was already under way (on this node or another). */
    @PostMapping("/reconcile")
    public Mono<Reconciliation.Report> run(@AuthenticationPrincipal AtelierPrincipal caller,
                                           ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
            Reconciliation.Report report = reconciliation.run();
            Map<String, String> details = new LinkedHashMap<>();
            details.put("ran", Boolean.toString(report.ran()));
            details.put("drifts", Integer.toString(report.drifts().size()));
            details.put("orphans", Integer.toString(report.orphans()));
            recorder.record(new AuditRecordedEvent("reconcile", AuditEntry.COMPLETED, "reconciliation", null,
                    AuditEntry.SUCCESS, 200, null, details), metadata);
            return report;
        }).subscribeOn(Schedulers.boundedElastic());
    }

    @GetMapping("/orphans")
    public Mono<Orphans> orphans(@AuthenticationPrincipal AtelierPrincipal caller, ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
            List<Reconciliation.Orphan> all = reconciliation.orphans();
            recorder.record(new AuditRecordedEvent("list", AuditEntry.COMPLETED, "orphan", null, AuditEntry.SUCCESS,
                    200, null, Map.of("count", Integer.toString(all.size()))), metadata);
            return new Orphans(all);
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /** 204 once the provider removed it, 202 while the provider is still at it (the next run forgets it). */
    @DeleteMapping("/orphans/{id}")
    public Mono<ResponseEntity<Void>> delete(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                             ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
            Reconciliation.Orphan orphan = reconciliation.orphan(id)
                    .orElseThrow(() -> ApiProblem.notFound("no orphan " + Text.quote(id)));
            ProviderOperation result;
            try {
                result = reconciliation.deleteOrphan(orphan, metadata);
            } catch (RuntimeException e) {
                throw new ApiProblem(HttpStatus.BAD_GATEWAY, "provider " + orphan.provider()
                        + " could not delete orphan " + orphan.id() + "; it is kept, try again later");
            }
            return (result.done() ? ResponseEntity.noContent() : ResponseEntity.accepted()).<Void>build();
        }).subscribeOn(Schedulers.boundedElastic());
    }
}
