package dev.atelier.config;

import com.github.kagkarlsson.scheduler.Scheduler;
import dev.atelier.lifecycle.SuspendedUserWorkspaces;
import org.axonframework.messaging.StreamableMessageSource;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.ConfigurationScopeAwareProvider;
import org.axonframework.deadline.DeadlineManagerSpanFactory;
import org.axonframework.deadline.dbscheduler.DbSchedulerDeadlineManager;
import org.axonframework.config.EventProcessingConfigurer;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.axonframework.messaging.correlation.MessageOriginProvider;
import org.axonframework.messaging.correlation.SimpleCorrelationDataProvider;
import org.axonframework.modelling.saga.repository.jdbc.PostgresSagaSqlSchema;
import org.axonframework.modelling.saga.repository.jdbc.SagaSqlSchema;
import org.axonframework.serialization.Serializer;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Axon settings that properties cannot express (the rest is in application.yml). */
@Configuration(proxyBeanMethods = false)
public class AxonConfiguration {

    /** Keys of the request context that the API puts on commands and that every resulting event carries. */
    public static final String[] REQUEST_METADATA = {"actorId", "actorType", "requestId", "clientIp", "userAgent",
            "tokenId"};

    /** Axon's default saga schema uses {@code blob}, which PostgreSQL does not have. */
    @Bean
    SagaSqlSchema sagaSqlSchema() {
        return new PostgresSagaSqlSchema();
    }

    /**
     * Same as Axon's db-scheduler auto-configuration, but typed as {@link DbSchedulerDeadlineManager}: the
     * db-scheduler task looks the manager up by that class, which finds only beans whose declared type says so.
     * Without this, a deadline that fires before anything else asked for the manager (right after a restart)
     * fails with "no bean of type DbSchedulerDeadlineManager".
     */
    @Bean
    DbSchedulerDeadlineManager deadlineManager(Scheduler scheduler, org.axonframework.config.Configuration configuration,
                                               @Qualifier("eventSerializer") Serializer serializer,
                                               TransactionManager transactionManager,
                                               DeadlineManagerSpanFactory spanFactory) {
        return DbSchedulerDeadlineManager.builder()
                .scheduler(scheduler)
                .scopeAwareProvider(new ConfigurationScopeAwareProvider(configuration))
                .serializer(serializer)
                .transactionManager(transactionManager)
                .spanFactory(spanFactory)
                .startScheduler(false) // db-scheduler's Spring Boot starter starts and stops it
                .stopScheduler(false)
                .build();
    }

    /**
     * A handler that fails must not be skipped: the processor stops that segment and retries the event with backoff
     * (Axon's default would log and move on, losing a read-model update or a saga step).
     */
    @Autowired
    void retryFailedEvents(EventProcessingConfigurer processing) {
        processing.registerDefaultListenerInvocationErrorHandler(c -> PropagatingErrorHandler.instance());
    }

    /**
     * Pooled processors on the embedded (JDBC) event store are woken when events arrive instead of looking every
     * 500 ms ({@link PromptEventStreams}); with Axon Server the store's streams do that themselves.
     */
    @Autowired
    void promptPooledProcessors(EventProcessingConfigurer processing) {
        processing.registerPooledStreamingEventProcessorConfiguration((configuration, builder) -> {
            if (configuration.eventBus() instanceof EmbeddedEventStore store) {
                builder.messageSource(configuration.getComponent(PromptEventStreams.class, () -> {
                    PromptEventStreams streams = new PromptEventStreams(store);
                    configuration.onShutdown(streams::close);
                    return streams;
                }));
            }
            return builder;
        });
    }

    /**
     * The suspensions processor starts at the head of the event store the first time, not at its tail: stopping the
     * workspaces of users suspended before it existed would mean nothing, and replaying every start would be slow.
     */
    @Autowired
    void suspensionsFromNow(EventProcessingConfigurer processing) {
        processing.registerPooledStreamingEventProcessorConfiguration(SuspendedUserWorkspaces.PROCESSING_GROUP,
                (configuration, builder) -> builder.initialToken(StreamableMessageSource::createHeadToken));
    }

    @Bean
    CorrelationDataProvider requestContextCorrelation() {
        return new SimpleCorrelationDataProvider(REQUEST_METADATA);
    }

    @Bean
    CorrelationDataProvider messageOriginProvider() {
        return new MessageOriginProvider();
    }
}
