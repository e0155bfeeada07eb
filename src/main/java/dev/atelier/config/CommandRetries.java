package dev.atelier.config;

import org.axonframework.commandhandling.CommandBus;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.axonframework.commandhandling.gateway.RetryScheduler;
import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.modelling.command.AnnotationCommandTargetResolver;
import org.axonframework.modelling.command.CommandTargetResolver;
import org.axonframework.modelling.command.ConcurrencyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What a cached aggregate decides is checked against the event store before the caller hears it (aggregate caches:
 * {@link AggregateCaching}; several nodes on one event store make an entry out of date whenever another node handled
 * a command for the same aggregate):
 * <ul>
 *   <li>A command that lost a race for its aggregate's next sequence number ({@link ConcurrencyException}: its
 *   append collided) is dispatched again; Axon has dropped the cache entry, so the retry reads the event store.
 *   After {@link #MAX_RETRIES} lost races the caller gets the conflict (HTTP 409 "changed at the same time").</li>
 *   <li>A command the aggregate refused because of its state ({@link DomainRuleViolation.Kind#CONFLICT}, "a
 *   transition is in progress") appended nothing, so the event store cannot catch an out-of-date entry there: the
 *   entry is dropped and the command dispatched once more on the stored state. A refusal that stands is then given
 *   to the caller; invalid input is never retried.</li>
 * </ul>
 */
@Configuration(proxyBeanMethods = false)
public class CommandRetries {

    static final int MAX_RETRIES = 3;
    private static final long BACK_OFF_MILLIS = 20;

    @Bean
    CommandGateway commandGateway(CommandBus commandBus, List<BoundedAggregateCache> caches) {
        return DefaultCommandGateway.builder().commandBus(commandBus)
                .retryScheduler(new LostRaces(id -> caches.forEach(cache -> cache.remove(id)))).build();
    }

    /** Retries lost sequence-number races a few times, and a refusal by state once on the stored state. */
    public static final class LostRaces implements RetryScheduler {

        private static final Logger log = LoggerFactory.getLogger(LostRaces.class);
        private static final CommandTargetResolver TARGETS = AnnotationCommandTargetResolver.builder().build();
        private static final ScheduledExecutorService RETRIES = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "command-retries");
            t.setDaemon(true);
            return t;
        });

        private final Consumer<String> evict;

        public LostRaces(Consumer<String> evict) {
            this.evict = evict;
        }

        @Override
        public boolean scheduleRetry(CommandMessage commandMessage, RuntimeException lastFailure,
                                     List<Class<? extends Throwable>[]> failures, Runnable commandDispatch) {
            if (refusedByState(lastFailure)) {
                if (failures.size() > 1) {
                    return false; // refused again on the stored state (or after a lost race, which reloaded it)
                }
                String target;
                try {
                    target = TARGETS.resolveTarget(commandMessage).getIdentifier();
                } catch (IllegalArgumentException noTarget) {
                    return false; // a creation: nothing was cached
                }
                evict.accept(target);
                RETRIES.execute(commandDispatch);
                return true;
            }
            if (!lostRace(lastFailure) || failures.size() > MAX_RETRIES) {
                return false;
            }
            log.debug("{} lost a race for its aggregate; retry {} of {}", commandMessage.getCommandName(),
                    failures.size(), MAX_RETRIES);
            RETRIES.schedule(commandDispatch, BACK_OFF_MILLIS * failures.size(), TimeUnit.MILLISECONDS);
            return true;
        }

        private static boolean refusedByState(Throwable failure) {
            return cause(failure, DomainRuleViolation.class)
                    .filter(v -> v.kind() == DomainRuleViolation.Kind.CONFLICT).isPresent();
        }

        private static boolean lostRace(Throwable failure) {
            return cause(failure, ConcurrencyException.class).isPresent();
        }

        /** The first exception of {@code type} in the chain of causes, the failure itself included. */
        private static <T extends Throwable> java.util.Optional<T> cause(Throwable failure, Class<T> type) {
            for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (type.isInstance(t)) {
                    return java.util.Optional.of(type.cast(t));
                }
            }
            return java.util.Optional.empty();
        }
    }
}
