package dev.atelier.provider;

import org.springframework.web.server.ServerWebExchange;

import java.util.Map;

/**
 * Records in the audit trail what an owner changed in a provider's own configuration through the API (an SSH host
 * registered, changed — including its host key —, removed or checked). Providers reach the trail only through this
 * interface; the engine implements it with the caller and request of {@code exchange}.
 */
public interface ProviderAudit {

    /**
     * @param action       {@code create}, {@code update}, {@code delete}, {@code check}, ...
     * @param resourceType e.g. {@code ssh-host}
     * @param details      what changed (never a secret)
     */
    void record(ServerWebExchange exchange, String action, String resourceType, String resourceId, boolean success,
                Map<String, String> details);
}
