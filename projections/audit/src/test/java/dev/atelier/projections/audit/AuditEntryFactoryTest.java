package dev.atelier.projections.audit;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.template.TemplateVersionPublishedEvent;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.MetaData;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** From event to entry: fields, diffs against the resource's previous state, secrets, inherited reasons. */
class AuditEntryFactoryTest {

    private final AuditEntryFactory factory = new AuditEntryFactory(new AuditSecrets(new byte[32]));
    private final Map<String, String> state = new TreeMap<>();
    private AuditChain.Head head = new AuditChain.Head(0, AuditChain.ZERO_HASH, 0);

    @Test
    void aNewTemplateVersionDiffsAgainstThePreviousDefinitionWithSecretsMasked() {
        append(new TemplateVersionPublishedEvent("t1", 1, definition("exec sleep 1", Map.of("TOKEN", "a"), "0.10"),
                new Actor("tadmin", Actor.ActorType.API_TOKEN)), Map.of());
        AuditEntry second = append(new TemplateVersionPublishedEvent("t1", 2,
                definition("exec sleep 2", Map.of("TOKEN", "b", "MODE", "x"), "0.10"),
                new Actor("tadmin", Actor.ActorType.API_TOKEN)), Map.of());
        assertThat(second.diff()).isEqualTo(Map.of(
                "latestVersion", new AuditEntry.Change("1", "2"),
                "definition.spec.startupScript", new AuditEntry.Change("exec sleep 1", "exec sleep 2"),
                "definition.spec.env.TOKEN", new AuditEntry.Change("[secret]", "[secret]"),
                "definition.spec.env.MODE", new AuditEntry.Change(null, "[secret]")));
        AuditEntry third = append(new TemplateVersionPublishedEvent("t1", 3,
                new TemplateDefinition("local", Map.of(), List.of(), null, null),
                new Actor("tadmin", Actor.ActorType.API_TOKEN)), Map.of());
        assertThat(third.diff()).containsEntry("definition.pricing.runningPerHour", new AuditEntry.Change("0.10", null))
                .containsEntry("definition.spec.env.TOKEN", new AuditEntry.Change("[secret]", null));
        assertThat(third.action()).isEqualTo("publish");
        assertThat(third.actorId()).isEqualTo("tadmin");
        assertThat(third.seq()).isEqualTo(3);
        assertThat(third.prevHash()).isEqualTo(second.hash());
    }

    @Test
    void theOutcomeOfATransitionInheritsItsReasonAndTakesItsActorFromTheMetadata() {
        AuditEntry requested = append(new WorkspaceTransitionStartedEvent("w1", 3, Transition.STOP,
                TransitionReason.IDLE, new Actor("idle-detector", Actor.ActorType.SYSTEM), "t1", 1, "local", "r", false,
                "alice", Map.of("apiToken", "x")), Map.of("requestId", "req-9"));
        assertThat(requested.reason()).isEqualTo("IDLE");
        assertThat(requested.phase()).isEqualTo("requested");
        assertThat(requested.requestId()).isEqualTo("req-9");
        assertThat(requested.diff()).doesNotContainKeys("_reason", "_build")
                .containsEntry("parameters.apiToken", new AuditEntry.Change(null, "[secret]"));
        AuditEntry completed = append(new WorkspaceTransitionSucceededEvent("w1", 3, Transition.STOP, "r", Map.of(),
                true, "provider could not find the container"), Map.of("actorId", "atelier", "actorType", "SYSTEM"));
        assertThat(completed.reason()).isEqualTo("IDLE");
        assertThat(completed.actorId()).isEqualTo("atelier");
        assertThat(completed.phase()).isEqualTo("completed");
        assertThat(completed.buildNumber()).isEqualTo(3);
        assertThat(completed.details()).containsEntry("forced", "true");
        assertThat(completed.error()).isEqualTo("provider could not find the container");
        assertThat(completed.diff()).containsEntry("status", new AuditEntry.Change("STOPPING", "STOPPED"));
    }

    @Test
    void anAttemptAndAnUnknownEventBecomeEntriesToo() {
        AuditEntry attempt = append(new AuditRecordedEvent("Stop", "requested", "Workspace", "w9", "denied", 404,
                "workspace w9 does not exist", Map.of("path", "/api/v1/workspaces/w9/stop")),
                Map.of("actorId", "bob", "actorType", "API_TOKEN", "clientIp", "10.0.0.9", "userAgent", "curl"));
        assertThat(attempt.action()).isEqualTo("stop");
        assertThat(attempt.resourceType()).isEqualTo("workspace");
        assertThat(attempt.outcome()).isEqualTo("denied");
        assertThat(attempt.statusCode()).isEqualTo(404);
        assertThat(attempt.actorId()).isEqualTo("bob");
        assertThat(attempt.clientIp()).isEqualTo("10.0.0.9");
        assertThat(attempt.diff()).isNull();

        AuditDraft unknown = factory.draft(new GenericDomainEventMessage<>("Budget", "b1", 0,
                new BudgetExceededEvent("b1", new BigDecimal("12.50"), "s3cret")), 7);
        assertThat(unknown.action()).isEqualTo("budget-exceeded");
        assertThat(unknown.resourceType()).isEqualTo("budget");
        assertThat(unknown.resourceId()).isEqualTo("b1");
        assertThat(unknown.details()).containsEntry("amount", "12.50").containsEntry("apiSecret", "[secret]");
    }

    record BudgetExceededEvent(String budgetId, BigDecimal amount, String apiSecret) {
    }

    private AuditEntry append(Object payload, Map<String, ?> metadata) {
        AuditDraft draft = factory.draft(new GenericEventMessage<>(payload, MetaData.from(metadata)), head.lastIndex() + 1);
        AuditEntry entry = AuditChain.chain(draft, state, head);
        assertThat(entry.hash()).isEqualTo(entry.computeHash());
        head = new AuditChain.Head(entry.seq(), entry.hash(), draft.eventIndex());
        return entry;
    }

    private static TemplateDefinition definition(String script, Map<String, String> env, String price) {
        return new TemplateDefinition("local", Map.of("startupScript", script, "env", env), List.of(), null,
                new Pricing(new BigDecimal(price), null, "EUR"));
    }
}
