package dev.atelier.config;

import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.EventProcessingConfigurer;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.deadletter.jdbc.DeadLetterSchema;
import org.axonframework.eventhandling.deadletter.jdbc.JdbcSequencedDeadLetterQueue;
import org.axonframework.serialization.Serializer;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.axonframework.springboot.EventProcessorProperties;
import org.axonframework.springboot.util.DeadLetterQueueProviderConfigurerModule;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.DefaultTransactionDefinition;

import javax.sql.DataSource;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * A poison event cannot stop a projection (docs/operations.md): every streaming processing group gets Axon's
 * {@link JdbcSequencedDeadLetterQueue} (table {@code deadletterentry}). An event that still fails after the retry
 * policy ({@link DeadLetterPolicy}) is parked with its cause, later events of the same sequence (the same aggregate)
 * are parked behind it so that their order is kept, and every other sequence goes on. Subscribing groups
 * ({@code templates}, {@code budgets}) have none: they run inside the command's transaction, so a failure there fails
 * the command and halts nothing. Axon 4 has no dead-letter queue for sagas.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(DeadLetterConfiguration.DeadLetterSettings.class)
public class DeadLetterConfiguration {

    /**
     * @param attempts        how often an event is tried before it is parked (the processor retries the batch with
     *                        its back-off in between); 1 parks at the first failure
     * @param maxSequences    parked sequences a processing group may hold; beyond that the processor halts (an
     *                        operator must look: something is badly wrong)
     * @param maxSequenceSize events one parked sequence may hold
     * @param claimDuration   how long a retry owns a sequence before another node may take it over
     */
    @ConfigurationProperties("atelier.dead-letters")
    public record DeadLetterSettings(@DefaultValue("3") int attempts, @DefaultValue("10000") int maxSequences,
                                     @DefaultValue("10000") int maxSequenceSize,
                                     @DefaultValue("PT30S") Duration claimDuration) {
    }

    /** Processing groups with a dead-letter queue: those whose processor streams ({@code dlq.enabled} in application.yml). */
    public static Set<String> groups(EventProcessorProperties properties) {
        Set<String> groups = new TreeSet<>();
        properties.getProcessors().forEach((name, settings) -> {
            if (settings.getDlq().isEnabled()) {
                groups.add(name);
            }
        });
        return groups;
    }

    /** Replaces Axon's default provider (same switch, {@code dlq.enabled}) to set the queue's bounds. */
    @Bean
    DeadLetterQueueProviderConfigurerModule deadLetterQueueProviderConfigurerModule(
            EventProcessorProperties processors, ConnectionProvider connections, TransactionManager transactions,
            DeadLetterSchema schema, @Qualifier("eventSerializer") Serializer eventSerializer, Serializer serializer,
            DeadLetterSettings settings) {
        return new DeadLetterQueueProviderConfigurerModule(processors, group -> config ->
                JdbcSequencedDeadLetterQueue.<EventMessage<?>>builder()
                        .processingGroup(group)
                        .connectionProvider(connections)
                        .transactionManager(transactions)
                        .schema(schema)
                        .genericSerializer(serializer)
                        .eventSerializer(eventSerializer)
                        .maxSequences(settings.maxSequences())
                        .maxSequenceSize(settings.maxSequenceSize())
                        .claimDuration(settings.claimDuration())
                        .build());
    }

    /**
     * Per group: the retry-then-park policy, a savepoint for an event retried after a failure (none otherwise), the
     * sequence cache (no query per event while nothing is parked), and nested transactions for retries of dead
     * letters, so that a retry that fails again rolls back only its own work and the letter's new cause is kept.
     */
    @Autowired
    void deadLetters(EventProcessingConfigurer processing, EventProcessorProperties processors,
                     DeadLetterSettings settings, DataSource dataSource, PlatformTransactionManager platform) {
        DefaultTransactionDefinition nested = new DefaultTransactionDefinition(TransactionDefinition.PROPAGATION_NESTED);
        SpringTransactionManager retries = new SpringTransactionManager(platform, nested);
        for (String group : groups(processors)) {
            EventSavepoints savepoints = new EventSavepoints(dataSource); // its suspects are this group's
            processing.registerDeadLetterPolicy(group, c -> new DeadLetterPolicy(group, settings.attempts()));
            processing.registerDeadLetteringEventHandlerInvokerConfiguration(group, (c, builder) -> builder
                    .enableSequenceIdentifierCache()
                    .allowReset(true) // a rebuild replays every event: what was parked is handled (or parked) again
                    .transactionManager(retries));
            processing.registerHandlerInterceptor(group, c -> savepoints);
        }
    }
}
