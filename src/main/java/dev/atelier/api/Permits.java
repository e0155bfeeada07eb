package dev.atelier.api;

import reactor.core.publisher.Mono;

import java.util.concurrent.Semaphore;

/** At most so many of one kind of expensive call at once; one more is a 429 that names the property. */
final class Permits {

    private final Semaphore semaphore;
    private final String what;
    private final String property;
    private final int max;

    Permits(int max, String what, String property) {
        this.max = Math.max(1, max);
        this.semaphore = new Semaphore(this.max);
        this.what = what;
        this.property = property;
    }

    /** The work, run with a permit taken at subscription and given back when it ends however it ends. */
    <T> Mono<T> run(Mono<T> work) {
        return Mono.defer(() -> {
            if (!semaphore.tryAcquire()) {
                return Mono.error(ApiProblem.tooMany(max + " " + what + " are running already (" + property + ": "
                        + max + "); try again when one has finished"));
            }
            return work.doFinally(signal -> semaphore.release());
        });
    }
}
