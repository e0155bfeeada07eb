package dev.atelier.domain.workspace;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import dev.atelier.domain.budget.BudgetGuard;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.template.ParameterValues;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.template.TemplateCatalog.TemplateVersionRef;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.annotation.DeadlineHandler;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.serialization.Revision;
import org.axonframework.spring.stereotype.Aggregate;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A workspace's lifecycle. Every transition (start, stop, delete) gets the next build number, a reason and an
 * actor; the lifecycle saga carries it out through the provider and reports back with
 * {@link CompleteTransitionCommand} or {@link FailTransitionCommand}. Reports for an older build are ignored,
 * so a late answer from a superseded transition can never change the status.
 * <p>
 * Kept in a bounded cache between commands and snapshotted every {@code atelier.workspace.snapshot-every} events
 * (config/AggregateCaching); the snapshot is this object's fields in JSON, hence the field visibility. Raise the
 * {@code @Revision} whenever the fields change: snapshots of another revision are then ignored (Axon's
 * {@code RevisionSnapshotFilter}) and the workspace is loaded from its events instead of from a stale snapshot.
 */
@Revision("2")
@Aggregate(cache = "workspaceCache", snapshotTriggerDefinition = "workspaceSnapshotTrigger")
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public class Workspace {

    static final String IDLE_CHECK = "workspace-idle-check";
    static final String MAX_LIFETIME = "workspace-max-lifetime";
    static final String AUTOSTOP_AFTER_FAILURE = "workspace-autostop-after-failure";
    static final String DORMANCY = "workspace-dormancy";
    static final String DELETE_DORMANT = "workspace-delete-dormant";
    /** ed25519, ecdsa and rsa, with room for a few more; a machine has three or four. */
    public static final int MAX_HOST_KEYS = 8;
    static final Pattern HOST_KEY_FINGERPRINT = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}");

    private static final Set<WorkspaceStatus> STARTABLE = Set.of(WorkspaceStatus.STOPPED, WorkspaceStatus.FAILED);
    private static final Set<WorkspaceStatus> STOPPABLE = Set.of(WorkspaceStatus.RUNNING, WorkspaceStatus.FAILED);

    @AggregateIdentifier
    private String workspaceId;
    private WorkspaceStatus status;
    private long buildNumber;
    private String templateId;
    private int templateVersion;
    private Integer nextTemplateVersion;
    private String provider;
    private String resourceId;
    private String owner;
    private String team;
    private Map<String, String> parameters;
    /** Parameters resolved by an update; like the template version they apply from the next start. */
    private Map<String, String> nextParameters;
    private boolean forceDelete;
    private WorkspaceKind kind;
    private PolicyOverrides policyOverrides;
    private Instant runningSince;
    private Instant keepAliveUntil;
    private Instant warnedStopAt;
    private boolean dormant;
    /** The SSH host key fingerprints the agent reported for the current build; null until it does. */
    private List<String> hostKeys;

    protected Workspace() {
    }

    /**
     * Creates the workspace and starts its first build. A handler with a creation policy rather than a constructor,
     * so that it can answer with what it decided ({@link CreatedWorkspace}) and the API shows that instead of
     * guessing the defaults again.
     */
    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.ALWAYS)
    public CreatedWorkspace handle(CreateWorkspaceCommand command, TemplateCatalog catalog, BudgetGuard budgets) {
        WorkspaceRules.requireValidName(command.name());
        WorkspaceRules.requireValidLabels(command.labels());
        WorkspaceRules.requireValidPeople(command.owner(), command.team());
        if (command.owner() == null || command.owner().isBlank()) {
            throw DomainRuleViolation.invalid("a workspace needs an owner");
        }
        TemplateVersionRef template = resolve(catalog, command.templateId(), command.templateVersion());
        if (template.archived()) {
            throw DomainRuleViolation.conflict("template " + command.templateId() + " is archived; "
                    + "new workspaces cannot use it");
        }
        Map<String, String> resolved = ParameterValues.resolve(template.definition().parameters(),
                command.parameters(), null);
        EffectivePolicy.requireWithinBounds(command.policy(), template.definition().policy());
        requireWithinBudget(budgets, command.owner(), command.team(), "create workspace " + dev.atelier.domain.shared.Text.quote(command.name()));
        String provider = template.definition().provider();
        WorkspaceCreatedEvent created = new WorkspaceCreatedEvent(command.workspaceId(), command.name(),
                command.owner(), command.team(), command.kind() == null ? WorkspaceKind.HUMAN : command.kind(),
                command.templateId(), template.version(), provider, resolved,
                command.labels() == null ? Map.of() : Map.copyOf(command.labels()), command.actor(), command.policy());
        apply(created);
        WorkspaceTransitionStartedEvent firstBuild = new WorkspaceTransitionStartedEvent(command.workspaceId(), 1,
                Transition.START, reasonOrDefault(command.reason()), command.actor(), command.templateId(),
                template.version(), provider, null, false, command.owner(), resolved);
        apply(firstBuild);
        return new CreatedWorkspace(created.workspaceId(), created.name(), created.owner(), created.team(),
                created.kind(), created.templateId(), created.templateVersion(), WorkspaceStatus.PENDING,
                firstBuild.buildNumber(), created.labels());
    }

    @CommandHandler
    public long handle(StartWorkspaceCommand command, BudgetGuard budgets) {
        if (!STARTABLE.contains(status)) {
            throw DomainRuleViolation.conflict(refusal("start", "start it when it is STOPPED or FAILED"));
        }
        requireWithinBudget(budgets, owner, team, "start workspace " + workspaceId);
        int version = nextTemplateVersion != null ? nextTemplateVersion : templateVersion;
        Map<String, String> values = nextParameters != null ? nextParameters : parameters;
        return beginTransition(Transition.START, command.reason(), command.actor(), version, values, false);
    }

    @CommandHandler
    public long handle(StopWorkspaceCommand command) {
        if (!STOPPABLE.contains(status)) {
            throw DomainRuleViolation.conflict(refusal("stop", "stop it when it is RUNNING or FAILED, or delete it"));
        }
        return beginTransition(Transition.STOP, command.reason(), command.actor(), templateVersion, parameters, false);
    }

    @CommandHandler
    public long handle(DeleteWorkspaceCommand command) {
        if (status == WorkspaceStatus.DELETED) {
            throw DomainRuleViolation.conflict("workspace " + workspaceId + " is already DELETED");
        }
        if (status == WorkspaceStatus.DELETING && !command.force()) {
            throw DomainRuleViolation.conflict("workspace " + workspaceId + " is already DELETING (build "
                    + buildNumber + "); use force=true to delete the record even if the provider cannot");
        }
        return beginTransition(Transition.DELETE, command.reason(), command.actor(), templateVersion, parameters,
                command.force());
    }

    @CommandHandler
    public void handle(UpdateWorkspaceCommand command, TemplateCatalog catalog) {
        if (status == WorkspaceStatus.DELETING || status == WorkspaceStatus.DELETED) {
            throw DomainRuleViolation.conflict(refusal("update", "a deleted workspace cannot change template"));
        }
        TemplateVersionRef target = resolve(catalog, templateId, command.templateVersion());
        if (!target.definition().provider().equals(provider)) {
            throw DomainRuleViolation.invalid("template version " + target.version() + " uses provider '"
                    + target.definition().provider() + "' but workspace " + workspaceId + " runs on '" + provider
                    + "'; create a new workspace to change provider");
        }
        int current = nextTemplateVersion != null ? nextTemplateVersion : templateVersion;
        Map<String, String> currentParameters = nextParameters != null ? nextParameters : parameters;
        Map<String, String> resolved = ParameterValues.resolve(target.definition().parameters(),
                command.parameters(), currentParameters);
        if (target.version() == current && resolved.equals(currentParameters)) {
            throw DomainRuleViolation.conflict("workspace " + workspaceId + " is already on template version "
                    + current + " with these parameters");
        }
        apply(new WorkspaceTemplateVersionChangedEvent(workspaceId, templateId, current, target.version(), resolved,
                command.actor()));
    }

    @CommandHandler
    public void handle(CompleteTransitionCommand command, DeadlineManager deadlines, TemplateCatalog catalog,
                       PolicyDefaults defaults) {
        if (isStale(command.buildNumber())) {
            return;
        }
        Transition transition = currentTransition();
        if (command.providerError() != null && !(transition == Transition.DELETE && forceDelete)) {
            // Only a forced delete may succeed despite the provider; anything else with an error failed.
            apply(new WorkspaceTransitionFailedEvent(workspaceId, buildNumber, transition, command.providerError()));
            return;
        }
        apply(new WorkspaceTransitionSucceededEvent(workspaceId, buildNumber, transition,
                command.resourceId() != null ? command.resourceId() : resourceId,
                command.connection() == null ? Map.of() : command.connection(),
                command.providerError() != null, command.providerError()));
        EffectivePolicy policy = policy(catalog, defaults);
        Instant now = now();
        if (transition == Transition.START) {
            if (policy.idleTimeout() != null) {
                schedule(deadlines, IDLE_CHECK, now.plus(policy.idleTimeout()).minus(policy.idleWarning()));
            }
            if (policy.maxLifetime() != null) {
                schedule(deadlines, MAX_LIFETIME, now.plus(policy.maxLifetime()));
            }
        } else if (transition == Transition.STOP && policy.dormancyAfter() != null) {
            schedule(deadlines, DORMANCY, now.plus(policy.dormancyAfter()));
        }
    }

    @CommandHandler
    public void handle(FailTransitionCommand command, DeadlineManager deadlines, TemplateCatalog catalog,
                       PolicyDefaults defaults) {
        if (isStale(command.buildNumber())) {
            return;
        }
        Transition failed = currentTransition();
        apply(new WorkspaceTransitionFailedEvent(workspaceId, buildNumber, failed,
                Objects.requireNonNullElse(command.error(), "unknown provider error")));
        Duration autostop = policy(catalog, defaults).autostopAfterFailure();
        if (autostop != null && failed != Transition.DELETE) {
            schedule(deadlines, AUTOSTOP_AFTER_FAILURE, now().plus(autostop));
        }
    }

    /**
     * Reconciliation found the resource stopped or gone outside Atelier: the record follows reality (STOPPED, or
     * FAILED when gone). Nothing is recorded for a stale finding (another build since, or a transition under way:
     * the saga will find out itself) nor when the record already agrees.
     *
     * @return whether the drift was recorded
     */
    @CommandHandler
    public boolean handle(RecordDriftCommand command) {
        if (command.found() == null) {
            throw DomainRuleViolation.invalid("a drift needs what was found");
        }
        if (command.buildNumber() != buildNumber || status.inTransition()) {
            return false;
        }
        WorkspaceStatus to = switch (status) {
            case RUNNING -> command.found() == DriftFinding.GONE ? WorkspaceStatus.FAILED : WorkspaceStatus.STOPPED;
            case STOPPED -> command.found() == DriftFinding.GONE ? WorkspaceStatus.FAILED : null;
            default -> null;
        };
        if (to == null) {
            return false;
        }
        apply(new WorkspaceDriftedEvent(workspaceId, buildNumber, status, to, command.found(), TransitionReason.SYSTEM,
                Objects.requireNonNullElse(command.detail(), command.found() == DriftFinding.GONE
                        ? "resource not found" : "resource stopped outside Atelier")));
        return true;
    }

    /**
     * The agent's report of its machine's SSH host keys. Only the current build's agent reports (an older token is
     * refused), only while the workspace starts or runs, and only once per build: the first report is pinned, the
     * same one again changes nothing, and a different one is refused, so a process that gets hold of the agent's
     * token later cannot swap the keys the gateway trusts.
     *
     * @return whether the report was recorded (false: the same keys were already recorded for this build)
     */
    @CommandHandler
    public boolean handle(ReportHostKeysCommand command) {
        if (command.buildNumber() != buildNumber) {
            throw DomainRuleViolation.conflict("host keys of build " + command.buildNumber() + " are not taken: "
                    + "workspace " + workspaceId + " is at build " + buildNumber);
        }
        if (status != WorkspaceStatus.STARTING && status != WorkspaceStatus.RUNNING) {
            throw DomainRuleViolation.conflict("workspace " + workspaceId + " is " + status
                    + "; host keys are taken only while it starts or runs");
        }
        List<String> reported = command.fingerprints().stream().distinct().sorted().toList();
        if (reported.isEmpty() || reported.size() > MAX_HOST_KEYS) {
            throw DomainRuleViolation.invalid("a host key report holds 1 to " + MAX_HOST_KEYS + " keys");
        }
        for (String fingerprint : reported) {
            if (fingerprint == null || !HOST_KEY_FINGERPRINT.matcher(fingerprint).matches()) {
                throw DomainRuleViolation.invalid("a host key fingerprint is SHA256: and 43 base64 characters");
            }
        }
        if (hostKeys != null) {
            if (hostKeys.equals(reported)) {
                return false;
            }
            throw DomainRuleViolation.conflict("the host keys of workspace " + workspaceId + " build " + buildNumber
                    + " were already reported and differ; they are pinned until the next build");
        }
        apply(new WorkspaceHostKeysReportedEvent(workspaceId, buildNumber, reported));
        return true;
    }

    @CommandHandler
    public void handle(ExtendWorkspaceCommand command, TemplateCatalog catalog, PolicyDefaults defaults) {
        if (status != WorkspaceStatus.RUNNING) {
            throw DomainRuleViolation.conflict("cannot extend workspace " + workspaceId + ": it is " + status
                    + "; only a RUNNING workspace can be kept alive");
        }
        Instant until = command.until();
        if (until == null || !until.isAfter(now())) {
            throw DomainRuleViolation.invalid("keep-alive time must be in the future, was " + until);
        }
        Duration maxLifetime = policy(catalog, defaults).maxLifetime();
        if (maxLifetime != null && runningSince != null && until.isAfter(runningSince.plus(maxLifetime))) {
            throw DomainRuleViolation.invalid("cannot keep workspace " + workspaceId + " alive until " + until
                    + ": its maximum lifetime " + maxLifetime + " ends at " + runningSince.plus(maxLifetime));
        }
        apply(new WorkspaceKeepAliveExtendedEvent(workspaceId, buildNumber, until, command.actor()));
    }

    /**
     * Idle detection. Never stops a workspace with an open connection; warns once before the stop; reschedules
     * itself from the latest activity, so a busy workspace costs one check per idle period. The decision is
     * {@link IdlePolicy}'s; the aggregate reads the activity through its port and carries the decision out.
     */
    @DeadlineHandler(deadlineName = IDLE_CHECK)
    void onIdleCheck(PolicyCheck check, ActivityReader activities, DeadlineManager deadlines, TemplateCatalog catalog,
                     PolicyDefaults defaults) {
        if (check.buildNumber() != buildNumber || status != WorkspaceStatus.RUNNING) {
            return;
        }
        EffectivePolicy policy = policy(catalog, defaults);
        if (policy.idleTimeout() == null) {
            return;
        }
        Instant now = later(now(), check.dueAt());
        IdlePolicy.Decision decision = IdlePolicy.decide(now, activities.activity(workspaceId), runningSince,
                keepAliveUntil, warnedStopAt, policy.idleTimeout(), policy.idleWarning());
        if (decision instanceof IdlePolicy.CheckAgain again) {
            schedule(deadlines, IDLE_CHECK, again.at());
        } else if (decision instanceof IdlePolicy.Warn warn) {
            apply(new WorkspaceIdleWarningEvent(workspaceId, buildNumber, warn.stopAt(), warn.idleSince()));
            schedule(deadlines, IDLE_CHECK, warn.stopAt());
        } else {
            beginTransition(Transition.STOP, TransitionReason.IDLE, Actor.SYSTEM, templateVersion, parameters, false);
        }
    }

    /** A hard stop after the maximum lifetime, whatever the activity (the guard rail of agent workspaces). */
    @DeadlineHandler(deadlineName = MAX_LIFETIME)
    void onMaxLifetime(PolicyCheck check) {
        if (check.buildNumber() == buildNumber && status == WorkspaceStatus.RUNNING) {
            beginTransition(Transition.STOP, TransitionReason.MAX_LIFETIME, Actor.SYSTEM, templateVersion, parameters,
                    false);
        }
    }

    @DeadlineHandler(deadlineName = AUTOSTOP_AFTER_FAILURE)
    void onAutostopAfterFailure(PolicyCheck check) {
        if (check.buildNumber() == buildNumber && status == WorkspaceStatus.FAILED) {
            beginTransition(Transition.STOP, TransitionReason.SYSTEM, Actor.SYSTEM, templateVersion, parameters, false);
        }
    }

    @DeadlineHandler(deadlineName = DORMANCY)
    void onDormancy(PolicyCheck check, DeadlineManager deadlines, TemplateCatalog catalog, PolicyDefaults defaults) {
        if (check.buildNumber() != buildNumber || status != WorkspaceStatus.STOPPED || dormant) {
            return;
        }
        Duration deleteAfter = policy(catalog, defaults).deleteAfterDormant();
        Instant now = later(now(), check.dueAt());
        Instant deleteAt = deleteAfter == null ? null : now.plus(deleteAfter);
        apply(new WorkspaceMarkedDormantEvent(workspaceId, buildNumber, now, deleteAt));
        if (deleteAt != null) {
            schedule(deadlines, DELETE_DORMANT, deleteAt);
        }
    }

    @DeadlineHandler(deadlineName = DELETE_DORMANT)
    void onDeleteDormant(PolicyCheck check) {
        if (check.buildNumber() == buildNumber && status == WorkspaceStatus.STOPPED && dormant) {
            beginTransition(Transition.DELETE, TransitionReason.DORMANCY, Actor.SYSTEM, templateVersion, parameters,
                    false);
        }
    }

    /**
     * A used-up budget with {@code action: stop} of the owner or the team refuses every start (whatever its reason)
     * until its period ends or it is raised; stops and deletes stay possible.
     */
    private static void requireWithinBudget(BudgetGuard budgets, String owner, String team, String action) {
        budgets.blocking(owner, team, now()).ifPresent(block -> {
            throw DomainRuleViolation.conflict("cannot " + action + ": " + block.describe());
        });
    }

    private EffectivePolicy policy(TemplateCatalog catalog, PolicyDefaults defaults) {
        var template = catalog.find(templateId, templateVersion).map(t -> t.definition().policy()).orElse(null);
        return EffectivePolicy.of(template, policyOverrides, kind, defaults == null ? PolicyDefaults.NONE : defaults);
    }

    private void schedule(DeadlineManager deadlines, String name, Instant dueAt) {
        deadlines.schedule(dueAt, name, new PolicyCheck(buildNumber, dueAt));
    }

    private static Instant now() {
        return GenericEventMessage.clock.instant();
    }

    private static Instant later(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }

    private long beginTransition(Transition transition, TransitionReason reason, Actor actor, int version,
                                 Map<String, String> values, boolean force) {
        apply(new WorkspaceTransitionStartedEvent(workspaceId, buildNumber + 1, transition, reasonOrDefault(reason),
                actor, templateId, version, provider, resourceId, force, owner, values));
        return buildNumber;
    }

    private boolean isStale(long reportedBuild) {
        return reportedBuild != buildNumber || !status.inTransition();
    }

    private Transition currentTransition() {
        return switch (status) {
            case STARTING -> Transition.START;
            case STOPPING -> Transition.STOP;
            case DELETING -> Transition.DELETE;
            default -> throw new IllegalStateException("no transition in progress in " + status);
        };
    }

    private String refusal(String action, String hint) {
        String state = status.inTransition() ? status + " (build " + buildNumber + ")" : status.toString();
        String already = (action.equals("start") && (status == WorkspaceStatus.STARTING || status == WorkspaceStatus.RUNNING))
                || (action.equals("stop") && (status == WorkspaceStatus.STOPPING || status == WorkspaceStatus.STOPPED))
                ? "already " : "";
        return "cannot " + action + " workspace " + workspaceId + ": it is " + already + state + "; " + hint;
    }

    private static TransitionReason reasonOrDefault(TransitionReason reason) {
        return reason == null ? TransitionReason.USER : reason;
    }

    private static TemplateVersionRef resolve(TemplateCatalog catalog, String templateId, Integer version) {
        if (templateId == null || templateId.isBlank()) {
            throw DomainRuleViolation.invalid("templateId is required");
        }
        return catalog.find(templateId, version).orElseThrow(() -> DomainRuleViolation.invalid(version == null
                ? "template " + templateId + " does not exist"
                : "template " + templateId + " has no version " + version));
    }

    @EventSourcingHandler
    void on(WorkspaceCreatedEvent event) {
        workspaceId = event.workspaceId();
        status = WorkspaceStatus.PENDING;
        templateId = event.templateId();
        templateVersion = event.templateVersion();
        provider = event.provider();
        owner = event.owner();
        team = event.team();
        parameters = event.parameters();
        kind = event.kind();
        policyOverrides = event.policy();
    }

    @EventSourcingHandler
    void on(WorkspaceTransitionStartedEvent event) {
        buildNumber = event.buildNumber();
        status = event.transition().during();
        forceDelete = event.transition() == Transition.DELETE && event.force();
        runningSince = null;
        keepAliveUntil = null;
        warnedStopAt = null;
        dormant = false;
        hostKeys = null;
        if (event.transition() == Transition.START) {
            templateVersion = event.templateVersion();
            parameters = event.parameters();
            nextTemplateVersion = null;
            nextParameters = null;
        }
    }

    @EventSourcingHandler
    void on(WorkspaceTransitionSucceededEvent event, @Timestamp Instant time) {
        status = event.transition().after();
        resourceId = event.resourceId();
        if (event.transition() == Transition.START) {
            // The event store keeps timestamps to the millisecond: truncated, the state is the same whether the
            // event was just applied (and the aggregate stays cached) or read back from the store or a snapshot.
            runningSince = time.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        }
    }

    @EventSourcingHandler
    void on(WorkspaceKeepAliveExtendedEvent event) {
        keepAliveUntil = event.until();
    }

    @EventSourcingHandler
    void on(WorkspaceIdleWarningEvent event) {
        warnedStopAt = event.stopAt();
    }

    @EventSourcingHandler
    void on(WorkspaceHostKeysReportedEvent event) {
        hostKeys = event.fingerprints();
    }

    @EventSourcingHandler
    void on(WorkspaceMarkedDormantEvent event) {
        dormant = true;
    }

    @EventSourcingHandler
    void on(WorkspaceDriftedEvent event) {
        status = event.to();
        runningSince = null;
        keepAliveUntil = null;
        warnedStopAt = null;
    }

    @EventSourcingHandler
    void on(WorkspaceTransitionFailedEvent event) {
        status = WorkspaceStatus.FAILED;
    }

    @EventSourcingHandler
    void on(WorkspaceTemplateVersionChangedEvent event) {
        nextTemplateVersion = event.toVersion();
        nextParameters = event.parameters();
    }
}
