package dev.atelier.observability;

import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import org.axonframework.commandhandling.CommandBus;
import org.axonframework.config.EventProcessingConfigurer;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.tracing.NoOpSpanFactory;
import org.axonframework.tracing.SpanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Logs and traces across the engine's threads: every Axon handler (commands, events, sagas, deadlines) runs with
 * the request id and workspace id of its message in the logging MDC ({@link HandlerLogContext}), and Axon's spans are
 * Micrometer Tracing spans ({@link MicrometerSpanFactory}) when tracing is on (the default; nothing leaves the
 * process unless an OTLP endpoint is set: docs/operations.md).
 */
@Configuration(proxyBeanMethods = false)
public class ObservabilityConfiguration {

    @Bean
    static SpanFactory spanFactory(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
        Tracer t = tracer.getIfAvailable();
        Propagator p = propagator.getIfAvailable();
        if (t == null || p == null || t == Tracer.NOOP) {
            return NoOpSpanFactory.INSTANCE;
        }
        return new MicrometerSpanFactory(t, p);
    }

    @Bean
    static HandlerLogContext handlerLogContext() {
        return new HandlerLogContext();
    }

    @Autowired
    void logContextForEvents(EventProcessingConfigurer processing, HandlerLogContext context) {
        // Sagas are the event handlers whose logs follow a request (their processing group is the class name plus
        // "Processor"); projections get the workspace id only.
        HandlerLogContext projections = context.withoutRequestIds();
        processing.registerDefaultHandlerInterceptor((configuration, name) ->
                name.endsWith("SagaProcessor") ? context : projections);
    }

    @Autowired
    void logContextForCommands(CommandBus commands, HandlerLogContext context) {
        commands.registerHandlerInterceptor(context);
    }

    @Autowired
    void logContextForDeadlines(DeadlineManager deadlines, HandlerLogContext context) {
        deadlines.registerHandlerInterceptor(context);
    }
}
