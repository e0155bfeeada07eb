package dev.atelier.api;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/** The cap behind {@code atelier.limits.concurrent-verifies} and {@code concurrent-cost-exports}. */
class PermitsTest {

    private final Permits permits = new Permits(2, "audit verify runs", "atelier.limits.concurrent-verifies");

    @Test
    void onePastTheCapIsA429ThatNamesThePropertyAndAFinishedRunFreesItsPlace() {
        Sinks.One<String> first = Sinks.one();
        Sinks.One<String> second = Sinks.one();
        Disposable a = permits.run(first.asMono()).subscribe();
        Disposable b = permits.run(second.asMono()).subscribe();

        StepVerifier.create(permits.run(Mono.just("third")))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(ApiProblem.class);
                    assertThat(((ApiProblem) e).status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
                    assertThat(e.getMessage()).contains("atelier.limits.concurrent-verifies").contains("2 audit");
                })
                .verify();

        first.tryEmitValue("done"); // a run that completes gives its permit back
        StepVerifier.create(permits.run(Mono.just("third"))).expectNext("third").verifyComplete();

        b.dispose(); // so does one whose caller went away
        StepVerifier.create(permits.run(Mono.just("fourth"))).expectNext("fourth").verifyComplete();
        a.dispose();
    }

    @Test
    void aRunThatFailsGivesItsPermitBack() {
        Permits one = new Permits(1, "cost exports", "atelier.limits.concurrent-cost-exports");
        StepVerifier.create(one.run(Mono.error(new IllegalStateException("boom")))).expectError().verify();
        StepVerifier.create(one.run(Mono.just("next"))).expectNext("next").verifyComplete();
    }

    @Test
    void aRunIsCountedOnlyWhileSubscribed() {
        Mono<String> lazy = permits.run(Mono.just("x"));
        Mono<String> other = permits.run(Mono.just("y"));
        // Building the calls takes no permit; each subscription takes one and gives it back.
        for (int i = 0; i < 5; i++) {
            StepVerifier.create(lazy).expectNext("x").verifyComplete();
            StepVerifier.create(other).expectNext("y").verifyComplete();
        }
    }
}
