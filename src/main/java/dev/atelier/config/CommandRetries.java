package dev.atelier.config;

import org.axonframework.commandhandling.CommandBus;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.axonframework.commandhandling.gateway.RetryScheduler;
import org.axonframework.modelling.command.ConcurrencyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A command that lost a race for its aggregate's next sequence number ({@link ConcurrencyException}: its append
 * collided with another request's, possibly on another node) is dispatched again; Axon has dropped the cache entry,
 * so the retry reads the event store. After {@link #MAX_RETRIES} lost races the caller gets the conflict (HTTP 409
 * "changed at the same time"). A refusal is an answer and is never retried: a cached aggregate is checked against
 * the event store's version before every command ({@link BoundedAggregateCache}), so a refusal is never made on an
 * out-of-date copy.
 */
@Configuration(proxyBeanMethods = false)
public class CommandRetries {

    static final int MAX_RETRIES = 3;
    private static final long BACK_OFF_MILLIS = 20;

    @Bean
    CommandGateway commandGateway(CommandBus commandBus) {
        return DefaultCommandGateway.builder().commandBus(commandBus)
                .retryScheduler(new LostRaces()).build();
    }

    /** Retries lost sequence-number races a few times. */
    public static final class LostRaces implements RetryScheduler {

        private static final Logger log = LoggerFactory.getLogger(LostRaces.class);
        private static final ScheduledExecutorService RETRIES = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "command-retries");
            t.setDaemon(true);
            return t;
        });

        @Override
        public boolean scheduleRetry(CommandMessage commandMessage, RuntimeException lastFailure,
                                     List<Class<? extends Throwable>[]> failures, Runnable commandDispatch) {
            if (!lostRace(lastFailure) || failures.size() > MAX_RETRIES) {
                return false;
            }
            log.debug("{} lost a race for its aggregate; retry {} of {}", commandMessage.getCommandName(),
                    failures.size(), MAX_RETRIES);
            RETRIES.schedule(commandDispatch, BACK_OFF_MILLIS * failures.size(), TimeUnit.MILLISECONDS);
            return true;
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
