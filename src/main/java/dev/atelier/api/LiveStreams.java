package dev.atelier.api;

import dev.atelier.security.AtelierPrincipal;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The live streams (server-sent events) open right now on this node, with a handle to end them: suspending a user
 * ends theirs ({@link #closeSubject}), revoking a token ends those opened with it ({@link #closeCredential}), and a
 * stream ends by itself when the credential that opened it expires.
 */
@Component
public class LiveStreams {

    private final Set<Stream> open = ConcurrentHashMap.newKeySet();

    private record Stream(String subject, String credentialId, Sinks.Empty<Void> closer) {
    }

    /** The stream, ended by the close methods or at its credential's expiry. */
    public <T> Flux<T> track(AtelierPrincipal caller, Flux<T> stream) {
        Stream handle = new Stream(caller.subject(), caller.credentialId(), Sinks.empty());
        Flux<T> bounded = stream.takeUntilOther(handle.closer().asMono());
        if (caller.expiresAt() != null) {
            Duration left = Duration.between(Instant.now(), caller.expiresAt());
            bounded = bounded.takeUntilOther(Mono.delay(left.isNegative() ? Duration.ZERO : left));
        }
        return bounded.doOnSubscribe(s -> open.add(handle)).doFinally(signal -> open.remove(handle));
    }

    /** How many streams {@code subject} holds open. */
    public int count(String subject) {
        return (int) open.stream().filter(s -> s.subject().equals(subject)).count();
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
        for (Stream s : open) {
            if (which.test(s)) {
                s.closer().tryEmitEmpty();
                closed++;
            }
        }
        return closed;
    }
}
