package dev.atelier.api;

import dev.atelier.security.AtelierPrincipal;
import org.springframework.web.server.ServerWebExchange;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Who called and from where; carried as metadata on every command and, through Axon's correlation data, on
 * every event it causes. {@code caller} is null for a request without valid credentials (recorded in the audit
 * trail as actor {@code anonymous}). The client address is the one {@link ClientAddresses} resolved (trusted proxies).
 */
public record RequestContext(AtelierPrincipal caller, String requestId, String clientIp, String userAgent) {

    public static final String REQUEST_ID_HEADER = "X-Request-Id";
    /** The actor of a request without valid credentials. */
    public static final String ANONYMOUS = "anonymous";

    public static RequestContext of(ServerWebExchange exchange, AtelierPrincipal caller) {
        String requestId = exchange.getRequest().getHeaders().getFirst(REQUEST_ID_HEADER);
        if (requestId == null || !requestId.matches("[A-Za-z0-9._-]{1,100}")) {
            requestId = exchange.getRequest().getId() + "-" + UUID.randomUUID().toString().substring(0, 8);
        }
        String ip = ClientAddresses.of(exchange);
        String agent = exchange.getRequest().getHeaders().getFirst("User-Agent");
        if (agent != null && agent.length() > 300) {
            agent = agent.substring(0, 300);
        }
        return new RequestContext(caller, requestId, ip, agent);
    }

    /**
     * Which credential acted, never its secret: an API token's id ({@code bootstrap} for the admin token), or
     * {@code agent:<workspace>:<build>} for a workspace agent's token, {@code session:<id>} for a browser session and
     * {@code jwt:<jti>} for an identity provider's token: two credentials of one subject are told apart.
     */
    static String tokenId(AtelierPrincipal caller) {
        if (caller == null || caller.credentialId() == null) {
            return null;
        }
        return switch (caller.type()) {
            case AGENT -> "agent:" + caller.credentialId();
            default -> caller.credentialId();
        };
    }

    public Map<String, Object> metadata() {
        Map<String, Object> metadata = new HashMap<>();
        metadata.put("actorId", caller == null ? ANONYMOUS : caller.subject());
        metadata.put("actorType", caller == null ? "ANONYMOUS" : caller.type().name());
        metadata.put("requestId", requestId);
        if (clientIp != null) {
            metadata.put("clientIp", clientIp);
        }
        if (userAgent != null) {
            metadata.put("userAgent", userAgent);
        }
        String tokenId = tokenId(caller);
        if (tokenId != null) {
            metadata.put("tokenId", tokenId);
        }
        return metadata;
    }
}
