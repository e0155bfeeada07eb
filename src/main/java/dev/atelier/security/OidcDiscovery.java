package dev.atelier.security;

import org.springframework.core.ParameterizedTypeReference;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.Map;

/**
 * The issuer's discovery document ({@code /.well-known/openid-configuration}), fetched on first use and kept for an
 * hour; a failure is not kept, so the next call tries again. Tells the web console and CLIs where the device
 * authorization endpoint is, when the issuer has one.
 */
@Component
public class OidcDiscovery {

    private static final Duration KEEP = Duration.ofHours(1);

    private final Mono<Map<String, Object>> document;

    public OidcDiscovery(OidcProperties properties, WebClient.Builder web) {
        if (!properties.enabled()) {
            this.document = Mono.empty();
            return;
        }
        String issuer = properties.issuerUri().endsWith("/")
                ? properties.issuerUri().substring(0, properties.issuerUri().length() - 1) : properties.issuerUri();
        this.document = web.build().get().uri(issuer + "/.well-known/openid-configuration").retrieve()
                .bodyToMono(new ParameterizedTypeReference<Map<String, Object>>() {
                })
                .timeout(Duration.ofSeconds(10))
                .cache(found -> KEEP, failed -> Duration.ZERO, () -> Duration.ZERO);
    }

    /** The discovery document; empty when single sign-on is off, an error when the issuer cannot be reached. */
    public Mono<Map<String, Object>> document() {
        return document;
    }
}
