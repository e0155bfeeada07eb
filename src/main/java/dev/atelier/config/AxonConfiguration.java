package dev.atelier.config;

import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.axonframework.messaging.correlation.MessageOriginProvider;
import org.axonframework.messaging.correlation.SimpleCorrelationDataProvider;
import org.axonframework.modelling.saga.repository.jdbc.PostgresSagaSqlSchema;
import org.axonframework.modelling.saga.repository.jdbc.SagaSqlSchema;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Axon settings that properties cannot express (the rest is in application.yml). */
@Configuration(proxyBeanMethods = false)
public class AxonConfiguration {

    /** Keys of the request context that the API puts on commands and that every resulting event carries. */
    public static final String[] REQUEST_METADATA = {"actorId", "actorType", "requestId", "clientIp", "userAgent"};

    /** Axon's default saga schema uses {@code blob}, which PostgreSQL does not have. */
    @Bean
    SagaSqlSchema sagaSqlSchema() {
        return new PostgresSagaSqlSchema();
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
