package dev.atelier.api;

import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.security.ApiTokens;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Ends the live streams of credentials that stopped counting elsewhere: tokens revoked on another node or expired,
 * users suspended on another node. On the node that revoked or suspended, the streams end at once
 * ({@link TokenController}, {@link UserController}); a stream also ends at its own credential's expiry
 * ({@link LiveStreams}). This is the backstop, every {@code atelier.tokens.expiry-check-interval}.
 */
@Component
public class EndedCredentials {

    /** Overlap between two looks, so that nothing committed at the edge is missed (closing twice is harmless). */
    private static final Duration OVERLAP = Duration.ofSeconds(5);

    private final ApiTokens tokens;
    private final IdentityReadModel identities;
    private final LiveStreams streams;
    private Instant lastLook = Instant.now();

    public EndedCredentials(ApiTokens tokens, IdentityReadModel identities, LiveStreams streams) {
        this.tokens = tokens;
        this.identities = identities;
        this.streams = streams;
    }

    @Scheduled(fixedDelayString = "${atelier.tokens.expiry-check-interval:PT30S}")
    public void endStreams() {
        Instant now = Instant.now();
        Instant from = lastLook.minus(OVERLAP);
        for (UUID token : tokens.endedBetween(from, now)) {
            streams.closeCredential(token.toString());
        }
        for (String user : identities.suspendedSince(from)) {
            streams.closeSubject(user);
        }
        lastLook = now;
    }
}
