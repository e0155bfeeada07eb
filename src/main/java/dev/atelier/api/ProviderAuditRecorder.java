package dev.atelier.api;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.provider.ProviderAudit;
import dev.atelier.security.AtelierPrincipal;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;

import java.util.Map;

/** Provider configuration changes, recorded like every other change: with the caller, the request and the token. */
@Component
public class ProviderAuditRecorder implements ProviderAudit {

    private final AuditRecorder recorder;

    public ProviderAuditRecorder(AuditRecorder recorder) {
        this.recorder = recorder;
    }

    @Override
    public void record(ServerWebExchange exchange, String action, String resourceType, String resourceId,
                       boolean success, Map<String, String> details) {
        AtelierPrincipal caller = exchange.getAttribute(AuditWebFilter.PRINCIPAL);
        recorder.record(new AuditRecordedEvent(action, AuditEntry.COMPLETED, resourceType, resourceId,
                        success ? AuditEntry.SUCCESS : AuditEntry.FAILURE, null, null, details),
                RequestContext.of(exchange, caller).metadata());
    }
}
