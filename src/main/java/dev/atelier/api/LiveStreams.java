package dev.atelier.api;

import dev.atelier.security.AtelierPrincipal;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.time.Duration;
import java.time.Instant;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The live streams (server-sent events) open right now, per principal: at most
 * {@code atelier.limits.live-streams-per-principal} each (one more is a 429), and a handle to end them, which
 * suspending a user or revoking a token needs ({@link #closeSubject}, {@link #closeCredential}). A stream also ends
 * by itself when the credential that opened it expires.
 */
@Component
public class LiveStreams {

    private final int perPrincipal;
    private final Map<String, Set<Stream>> open = new ConcurrentHashMap<>();

    public LiveStreams(ApiLimits limits) {
        this.perPrincipal = limits.liveStreamsPerPrincipal();
    }

    private record Stream(String subject, String credentialId, Sinks.Empty<Void> closer) {
    }

    /**
     * The stream, counted against the caller's cap from subscription to its end, and ended by the close methods or at
     * its credential's expiry.
     *
     * @throws ApiProblem 429 when the caller already holds the most streams allowed
     */
    public <T> Flux<T> track(AtelierPrincipal caller, Flux<T> stream) {
        String subject = caller.subject();
        Stream handle = new Stream(subject, caller.credentialId(), Sinks.empty());
        synchronized (open) {
            Set<Stream> mine = open.computeIfAbsent(subject, s -> ConcurrentHashMap.newKeySet());
            if (perPrincipal > 0 && mine.size() >= perPrincipal) {
                throw ApiProblem.tooMany("'" + subject + "' already has " + mine.size() + " live streams open "
                        + "(atelier.limits.live-streams-per-principal: " + perPrincipal + "); close one first");
            }
            mine.add(handle);
        }
        Flux<T> bounded = stream.takeUntilOther(handle.closer().asMono());
        if (caller.expiresAt() != null) {
            Duration left = Duration.between(Instant.now(), caller.expiresAt());
            bounded = bounded.takeUntilOther(Mono.delay(left.isNegative() ? Duration.ZERO : left));
        }
        return bounded.doFinally(signal -> release(handle));
    }

    /** How many streams {@code subject} holds open. */
    public int count(String subject) {
        Set<Stream> mine = open.get(subject);
        return mine == null ? 0 : mine.size();
    }

    /** Ends every stream of {@code subject} (a suspended user). @return how many */
    public int closeSubject(String subject) {
        return close(s -> s.subject().equals(subject));
    }

    /** Ends every stream opened with the credential {@code credentialId} (a revoked token). @return how many */
    public int closeCredential(String credentialId) {
        return close(s -> credentialId.equals(s.credentialId()));
    }

    private int close(Predicate<Stream> which) {
        int closed = 0;
        for (Set<Stream> streams : open.values()) {
            for (Stream s : streams) {
                if (which.test(s)) {
                    s.closer().tryEmitEmpty();
                    closed++;
                }
            }
        }
        return closed;
    }

    private void release(Stream handle) {
        synchronized (open) {
            Set<Stream> mine = open.get(handle.subject());
            if (mine != null) {
                mine.remove(handle);
                if (mine.isEmpty()) {
                    open.remove(handle.subject());
                }
            }
        }
    }
}
