package dev.atelier.api;

import dev.atelier.gateway.SshGateway;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SSH gateway's host keys (docs/ssh.md), so that a client can check the key it is shown on first connect (or
 * write known_hosts ahead of it) instead of trusting it blindly. Any authenticated caller may read them: they are
 * public, but the API answers nobody anonymously.
 */
@RestController
@RequestMapping("/api/v1/ssh")
public class SshController {

    private final SshGateway gateway;

    public SshController(SshGateway gateway) {
        this.gateway = gateway;
    }

    @GetMapping("/host-keys")
    public Map<String, Object> hostKeys(ServerWebExchange exchange) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("enabled", gateway.isRunning());
        if (!gateway.isRunning()) {
            out.put("keys", List.of());
            return out;
        }
        String host = Connections.gatewayHost(gateway, exchange);
        out.put("host", host);
        out.put("port", gateway.port());
        out.put("keys", gateway.hostKeys().stream().map(k -> Map.of("type", k.type(), "fingerprint", k.fingerprint(),
                "publicKey", k.publicKey())).toList());
        out.put("knownHosts", gateway.hostKeys().stream()
                .map(k -> "[" + host + "]:" + gateway.port() + " " + k.publicKey()).toList());
        return out;
    }
}
