package dev.atelier.observability;

import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.Message;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.slf4j.MDC;

import java.lang.reflect.RecordComponent;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Puts the request id (from the message's metadata: the API sets it on commands, and Axon's correlation data carries
 * it on to every event and saga step they cause) and the workspace id (a Workspace event's aggregate, or a
 * command's or event's {@code workspaceId} component) into the logging MDC while a handler runs, and restores what
 * was there afterwards. Structured logs (logging.structured.format.console) print them as fields.
 * <p>
 * Projections get the workspace id only ({@link #withoutRequestIds()}): an event's metadata is deserialized lazily,
 * and reading the request id of every event made a rebuild deserialize metadata no projection uses, 7.7 % of the
 * catch-up profile of 2026-12-04 (docs/benchmarks.md). Commands, deadlines and the saga, whose logs tell what a
 * request caused, keep both.
 */
public class HandlerLogContext implements MessageHandlerInterceptor<Message<?>> {

    public static final String REQUEST_ID = "requestId";
    public static final String WORKSPACE_ID = "workspaceId";
    private static final Map<Class<?>, RecordComponent> WORKSPACE_COMPONENT = new ConcurrentHashMap<>();

    private final boolean requestIds;

    public HandlerLogContext() {
        this(true);
    }

    private HandlerLogContext(boolean requestIds) {
        this.requestIds = requestIds;
    }

    /** The same context without the request id, which would cost every event its metadata's deserialization. */
    public HandlerLogContext withoutRequestIds() {
        return new HandlerLogContext(false);
    }

    @Override
    public Object handle(UnitOfWork<? extends Message<?>> unitOfWork, InterceptorChain chain) throws Exception {
        Message<?> message = unitOfWork.getMessage();
        String previousRequest = MDC.get(REQUEST_ID);
        String previousWorkspace = MDC.get(WORKSPACE_ID);
        put(REQUEST_ID, requestIds ? message.getMetaData().get(REQUEST_ID) : null);
        put(WORKSPACE_ID, workspaceId(message));
        try {
            return chain.proceed();
        } finally {
            restore(REQUEST_ID, previousRequest);
            restore(WORKSPACE_ID, previousWorkspace);
        }
    }

    static String workspaceId(Message<?> message) {
        if (message instanceof DomainEventMessage<?> event && "Workspace".equals(event.getType())) {
            return event.getAggregateIdentifier();
        }
        Object payload = message.getPayload();
        if (payload == null || !payload.getClass().isRecord()) {
            return null;
        }
        RecordComponent component = WORKSPACE_COMPONENT.computeIfAbsent(payload.getClass(), type -> {
            for (RecordComponent c : type.getRecordComponents()) {
                if (c.getName().equals(WORKSPACE_ID) && c.getType() == String.class) {
                    return c;
                }
            }
            return NONE;
        });
        if (component == NONE) {
            return null;
        }
        try {
            return (String) component.getAccessor().invoke(payload);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static final RecordComponent NONE = None.class.getRecordComponents()[0];

    private record None(String none) {
    }

    private static void put(String key, Object value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value.toString());
        }
    }

    private static void restore(String key, String value) {
        put(key, value);
    }
}
