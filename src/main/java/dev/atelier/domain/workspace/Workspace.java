package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.template.ParameterValues;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.template.TemplateCatalog.TemplateVersionRef;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A workspace's lifecycle. Every transition (start, stop, delete) gets the next build number, a reason and an
 * actor; the lifecycle saga carries it out through the provider and reports back with
 * {@link CompleteTransitionCommand} or {@link FailTransitionCommand}. Reports for an older build are ignored,
 * so a late answer from a superseded transition can never change the status.
 */
@Aggregate
public class Workspace {

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
    private Map<String, String> parameters;
    /** Parameters resolved by an update; like the template version they apply from the next start. */
    private Map<String, String> nextParameters;
    private boolean forceDelete;

    protected Workspace() {
    }

    @CommandHandler
    public Workspace(CreateWorkspaceCommand command, TemplateCatalog catalog) {
        WorkspaceRules.requireValidName(command.name());
        WorkspaceRules.requireValidLabels(command.labels());
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
        String provider = template.definition().provider();
        apply(new WorkspaceCreatedEvent(command.workspaceId(), command.name(), command.owner(), command.team(),
                command.kind() == null ? WorkspaceKind.HUMAN : command.kind(), command.templateId(),
                template.version(), provider, resolved,
                command.labels() == null ? Map.of() : Map.copyOf(command.labels()), command.actor()));
        apply(new WorkspaceTransitionStartedEvent(command.workspaceId(), 1, Transition.START,
                reasonOrDefault(command.reason()), command.actor(), command.templateId(), template.version(),
                provider, null, false, command.owner(), resolved));
    }

    @CommandHandler
    public long handle(StartWorkspaceCommand command) {
        if (!STARTABLE.contains(status)) {
            throw DomainRuleViolation.conflict(refusal("start", "start it when it is STOPPED or FAILED"));
        }
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
    public void handle(CompleteTransitionCommand command) {
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
    }

    @CommandHandler
    public void handle(FailTransitionCommand command) {
        if (isStale(command.buildNumber())) {
            return;
        }
        apply(new WorkspaceTransitionFailedEvent(workspaceId, buildNumber, currentTransition(),
                Objects.requireNonNullElse(command.error(), "unknown provider error")));
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
        parameters = event.parameters();
    }

    @EventSourcingHandler
    void on(WorkspaceTransitionStartedEvent event) {
        buildNumber = event.buildNumber();
        status = event.transition().during();
        forceDelete = event.transition() == Transition.DELETE && event.force();
        if (event.transition() == Transition.START) {
            templateVersion = event.templateVersion();
            parameters = event.parameters();
            nextTemplateVersion = null;
            nextParameters = null;
        }
    }

    @EventSourcingHandler
    void on(WorkspaceTransitionSucceededEvent event) {
        status = event.transition().after();
        resourceId = event.resourceId();
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
