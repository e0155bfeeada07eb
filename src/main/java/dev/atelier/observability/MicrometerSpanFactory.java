package dev.atelier.observability;

import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import org.axonframework.messaging.Message;
import org.axonframework.tracing.Span;
import org.axonframework.tracing.SpanAttributesProvider;
import org.axonframework.tracing.SpanFactory;
import org.axonframework.tracing.SpanScope;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Axon's spans (command dispatch and handling, event publication and handling, sagas, deadlines) as Micrometer
 * Tracing spans, so that they join the trace of the HTTP request that caused them and reach whatever exporter Spring
 * Boot configured. Axon's own OpenTelemetry module is not on Maven Central for 4.13, hence this small bridge.
 *
 * <p>The trace context travels in the messages' metadata (W3C {@code traceparent}), so a saga handling an event on
 * another node, or a deadline firing minutes later, continues the trace of the request that started the
 * transition. Handlers are always children of the message's context (not new traces with a link): one trace then
 * shows a workspace's whole start, from the request to the provider call.
 */
public class MicrometerSpanFactory implements SpanFactory {

    private final Tracer tracer;
    private final Propagator propagator;
    private final List<SpanAttributesProvider> attributeProviders = new CopyOnWriteArrayList<>();

    public MicrometerSpanFactory(Tracer tracer, Propagator propagator) {
        this.tracer = tracer;
        this.propagator = propagator;
    }

    @Override
    public Span createRootTrace(Supplier<String> operationName) {
        return new MicrometerSpan(tracer, tracer.spanBuilder().setNoParent().name(operationName.get()));
    }

    @Override
    public Span createHandlerSpan(Supplier<String> operationName, Message<?> parentMessage, boolean isChildTrace,
                                  Message<?>... linkedParents) {
        io.micrometer.tracing.Span.Builder builder = parentMessage.getMetaData().containsKey("traceparent")
                ? propagator.extract(parentMessage.getMetaData(), (metadata, key) -> {
                    Object value = metadata.get(key);
                    return value == null ? null : value.toString();
                })
                : tracer.spanBuilder();
        builder.name(operationName.get()).kind(io.micrometer.tracing.Span.Kind.CONSUMER);
        return attributes(new MicrometerSpan(tracer, builder), parentMessage);
    }

    @Override
    public Span createDispatchSpan(Supplier<String> operationName, Message<?> parentMessage,
                                   Message<?>... linkedSiblings) {
        return attributes(new MicrometerSpan(tracer, tracer.spanBuilder().name(operationName.get())
                .kind(io.micrometer.tracing.Span.Kind.PRODUCER)), parentMessage);
    }

    @Override
    public Span createInternalSpan(Supplier<String> operationName) {
        return new MicrometerSpan(tracer, tracer.spanBuilder().name(operationName.get()));
    }

    @Override
    public Span createInternalSpan(Supplier<String> operationName, Message<?> message) {
        return attributes(createInternalSpan(operationName), message);
    }

    @Override
    public void registerSpanAttributeProvider(SpanAttributesProvider provider) {
        attributeProviders.add(provider);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <M extends Message<?>> M propagateContext(M message) {
        io.micrometer.tracing.TraceContext context = tracer.currentTraceContext().context();
        if (context == null) {
            return message;
        }
        Map<String, String> carrier = new HashMap<>();
        propagator.inject(context, carrier, Map::put);
        return carrier.isEmpty() ? message : (M) message.andMetaData(carrier);
    }

    private Span attributes(Span span, Message<?> message) {
        if (message != null) {
            for (SpanAttributesProvider provider : attributeProviders) {
                provider.provideForMessage(message).forEach(span::addAttribute);
            }
        }
        return span;
    }

    /** An Axon span on a Micrometer span; the parent is the span current when it starts, unless the builder set one. */
    private static final class MicrometerSpan implements Span {

        private final Tracer tracer;
        private final io.micrometer.tracing.Span.Builder builder;
        private final Map<String, String> early = new HashMap<>();
        private io.micrometer.tracing.Span span;

        MicrometerSpan(Tracer tracer, io.micrometer.tracing.Span.Builder builder) {
            this.tracer = tracer;
            this.builder = builder;
        }

        @Override
        public Span start() {
            span = builder.start();
            early.forEach(span::tag);
            return this;
        }

        @Override
        public SpanScope makeCurrent() {
            if (span == null) {
                start();
            }
            Tracer.SpanInScope scope = tracer.withSpan(span);
            return scope::close;
        }

        @Override
        public void end() {
            if (span != null) {
                span.end();
            }
        }

        @Override
        public Span recordException(Throwable t) {
            if (span != null) {
                span.error(t);
            }
            return this;
        }

        @Override
        public Span addAttribute(String key, String value) {
            if (key != null && value != null) {
                if (span == null) {
                    early.put(key, value);
                } else {
                    span.tag(key, value);
                }
            }
            return this;
        }
    }
}
