package dev.atelier.lifecycle;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.workspace.CompleteTransitionCommand;
import dev.atelier.domain.workspace.FailTransitionCommand;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProviderRegistry;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.metrics.TransitionMetrics;
import io.github.resilience4j.core.IntervalFunction;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.messaging.annotation.MetaDataValue;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.annotation.DeadlineHandler;
import org.axonframework.modelling.saga.SagaEventHandler;
import org.axonframework.modelling.saga.SagaLifecycle;
import org.axonframework.modelling.saga.StartSaga;
import org.axonframework.spring.stereotype.Saga;
import org.axonframework.tracing.Span;
import org.axonframework.tracing.SpanFactory;
import org.axonframework.tracing.SpanScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Carries out one transition (build) of one workspace: calls the provider, polls slow operations with persistent
 * deadlines (no thread waits), retries retryable errors with exponential backoff, gives up after the configured
 * timeout, and reports the outcome to the workspace with a command. A newer build of the same workspace ends this
 * saga; its late results are ignored by the aggregate anyway.
 */
@Saga
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public class WorkspaceTransitionSaga {

    static final String TIMEOUT = "transition-timeout";
    static final String POLL = "provider-poll";
    static final String RETRY = "provider-retry";
    private static final Logger log = LoggerFactory.getLogger(WorkspaceTransitionSaga.class);

    private String workspaceId;
    private long buildNumber;
    private Transition transition;
    private boolean force;
    private String provider;
    private String templateId;
    private int templateVersion;
    private String owner;
    private Map<String, String> parameters;
    private String resourceId;
    private String operationId;
    private int attempt;
    private String timeoutDeadline;
    private String pendingDeadline;
    private String pendingDeadlineName;
    /** The request that asked for this transition; outcomes carry it so they can be traced back. */
    private String requestId;
    /** When the transition began (its start event's time, epoch milliseconds), for the transition duration
     * metric; null in sagas stored before it was kept. */
    private Long startedAt;

    @Autowired
    private transient ProviderRegistry providers;
    @Autowired
    private transient TemplateCatalog templates;
    @Autowired
    private transient CommandGateway commandGateway;
    @Autowired
    private transient DeadlineManager deadlineManager;
    @Autowired
    private transient TransitionSettings settings;
    @Autowired
    private transient WorkspaceAgents agents;
    @Autowired
    private transient TransitionMetrics metrics;
    @Autowired
    private transient SpanFactory spanFactory;

    @StartSaga(forceNew = true)
    @SagaEventHandler(associationProperty = "workspaceId")
    public void on(WorkspaceTransitionStartedEvent event, @MetaDataValue("requestId") String requestId,
                   @Timestamp Instant at) {
        if (workspaceId != null) {
            // A newer build of this workspace supersedes the one this saga carries out.
            if (event.buildNumber() != buildNumber) {
                finish();
            }
            return;
        }
        workspaceId = event.workspaceId();
        buildNumber = event.buildNumber();
        transition = event.transition();
        force = event.force();
        provider = event.provider();
        templateId = event.templateId();
        templateVersion = event.templateVersion();
        owner = event.owner();
        parameters = event.parameters();
        resourceId = event.resourceId();
        this.requestId = requestId;
        startedAt = at.toEpochMilli();
        if (transition == Transition.STOP) {
            metrics.stopStarted(event.reason());
        }
        timeoutDeadline = deadlineManager.schedule(settings.timeout(), TIMEOUT);
        invoke(false);
    }

    @SagaEventHandler(associationProperty = "workspaceId")
    public void on(WorkspaceTransitionSucceededEvent event, @Timestamp Instant at) {
        if (event.buildNumber() == buildNumber) {
            measure(true, at);
            finish();
        }
    }

    @SagaEventHandler(associationProperty = "workspaceId")
    public void on(WorkspaceTransitionFailedEvent event, @Timestamp Instant at) {
        if (event.buildNumber() == buildNumber) {
            measure(false, at);
            finish();
        }
    }

    @DeadlineHandler(deadlineName = POLL)
    public void onPoll() {
        pendingDeadline = null;
        invoke(true);
    }

    @DeadlineHandler(deadlineName = RETRY)
    public void onRetry() {
        pendingDeadline = null;
        invoke(operationId != null);
    }

    @DeadlineHandler(deadlineName = TIMEOUT)
    public void onTimeout() {
        timeoutDeadline = null;
        cancelPending();
        String error = "timed out: " + transition.name().toLowerCase() + " did not finish within "
                + settings.timeout() + " (provider " + provider + ")";
        report(error);
    }

    private void invoke(boolean polling) {
        ProviderOperation result;
        try {
            WorkspaceProvider target = providers.get(provider);
            ProvisionRequest request = request();
            String operation = polling ? "poll" : switch (transition) {
                case START -> resourceId == null ? "create" : "start";
                case STOP -> "stop";
                case DELETE -> "delete";
            };
            if (polling) {
                log.debug("workspace {} build {}: poll at provider {}", workspaceId, buildNumber, provider);
            } else {
                log.info("workspace {} build {}: {} at provider {}", workspaceId, buildNumber, operation, provider);
            }
            result = traced(operation, () -> switch (operation) {
                case "poll" -> target.poll(request, operationId);
                case "create" -> target.create(request);
                case "start" -> target.start(request);
                case "stop" -> target.stop(request);
                default -> target.delete(request);
            });
        } catch (ProviderException e) {
            if (e.retryable() && attempt + 1 < settings.maxAttempts()) {
                attempt++;
                Duration backoff = backoff(attempt);
                log.info("workspace {} build {}: retryable provider error, attempt {} of {} in {}: {}",
                        workspaceId, buildNumber, attempt + 1, settings.maxAttempts(), backoff, e.getMessage());
                schedule(RETRY, backoff);
            } else {
                report(e.getMessage() + (e.retryable() ? " (gave up after " + settings.maxAttempts() + " attempts)" : ""));
            }
            return;
        } catch (RuntimeException e) {
            log.warn("workspace {} build {}: provider {} failed unexpectedly", workspaceId, buildNumber, provider, e);
            report("provider " + provider + " failed: " + e);
            return;
        }
        if (result.resourceId() != null) {
            resourceId = result.resourceId();
        }
        if (result.done()) {
            send(new CompleteTransitionCommand(workspaceId, buildNumber, resourceId, result.connection(), null));
        } else {
            operationId = result.operationId();
            schedule(POLL, result.pollAfter() != null ? result.pollAfter() : settings.defaultPollInterval());
        }
    }

    /** The provider call as a span of its own, a child of the saga step's (and so of the request's trace). */
    private ProviderOperation traced(String operation, java.util.function.Supplier<ProviderOperation> call) {
        Span span = spanFactory.createInternalSpan(() -> "provider " + provider + " " + operation)
                .addAttribute("atelier.provider", provider).addAttribute("atelier.workspace_id", workspaceId)
                .addAttribute("atelier.build", Long.toString(buildNumber)).start();
        try (SpanScope ignored = span.makeCurrent()) {
            return call.get();
        } catch (RuntimeException e) {
            span.recordException(e);
            throw e;
        } finally {
            span.end();
        }
    }

    /** A failed forced delete still removes the record, and says so in the event. */
    private void report(String error) {
        if (transition == Transition.DELETE && force) {
            send(new CompleteTransitionCommand(workspaceId, buildNumber, resourceId, Map.of(), error));
        } else {
            send(new FailTransitionCommand(workspaceId, buildNumber, error));
        }
    }

    /**
     * Outcomes are the engine's own doing (actor: system), correlated with the request that started the build.
     * Sent synchronously so that a failure to record the outcome fails this step, which is then retried, instead
     * of leaving the workspace in transition until the timeout.
     */
    private void send(Object command) {
        Map<String, Object> metadata = new HashMap<>();
        metadata.put("actorId", Actor.SYSTEM.id());
        metadata.put("actorType", Actor.SYSTEM.type().name());
        if (requestId != null) {
            metadata.put("requestId", requestId);
        }
        commandGateway.sendAndWait(GenericCommandMessage.asCommandMessage(command).andMetaData(metadata));
    }

    private ProvisionRequest request() {
        var definition = templates.find(templateId, templateVersion).orElseThrow(() -> ProviderException.permanent(
                "template " + templateId + " version " + templateVersion + " is not available")).definition();
        Map<String, String> labels = Map.of("atelier-workspace-id", workspaceId,
                "atelier-build", Long.toString(buildNumber));
        WorkspaceAgent agent = transition == Transition.START ? agents.forBuild(workspaceId, buildNumber) : null;
        return new ProvisionRequest(workspaceId, buildNumber, owner, resourceId, definition.spec(), parameters, labels,
                agent);
    }

    private Duration backoff(int attemptNumber) {
        IntervalFunction intervals = IntervalFunction.ofExponentialBackoff(settings.initialBackoff(),
                settings.backoffMultiplier(), settings.maxBackoff());
        return Duration.ofMillis(intervals.apply(attemptNumber));
    }

    private void schedule(String name, Duration after) {
        cancelPending();
        pendingDeadlineName = name;
        pendingDeadline = deadlineManager.schedule(after, name);
    }

    private void cancelPending() {
        if (pendingDeadline != null) {
            deadlineManager.cancelSchedule(pendingDeadlineName, pendingDeadline);
            pendingDeadline = null;
        }
    }

    private void measure(boolean succeeded, Instant endedAt) {
        if (startedAt != null) {
            metrics.transitionEnded(provider, transition.name(), succeeded, Duration.between(Instant.ofEpochMilli(startedAt), endedAt));
        }
    }

    private void finish() {
        cancelPending();
        if (timeoutDeadline != null) {
            deadlineManager.cancelSchedule(TIMEOUT, timeoutDeadline);
            timeoutDeadline = null;
        }
        SagaLifecycle.end();
    }
}
