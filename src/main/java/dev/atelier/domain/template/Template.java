package dev.atelier.domain.template;

import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A versioned workspace template. Versions are immutable once published; workspaces pin one version and move
 * to another only by an explicit update. The aggregate keeps only what its decisions need.
 */
@Aggregate(cache = "templateCache")
public class Template {

    @AggregateIdentifier
    private String templateId;
    private int latestVersion;
    private int activeVersion;
    private boolean archived;

    protected Template() {
    }

    @CommandHandler
    public Template(CreateTemplateCommand command, TemplateSpecValidator validator) {
        TemplateRules.requireValidName(command.name());
        dev.atelier.domain.shared.Text.require("description", command.description(), 2000, true);
        TemplateRules.requireValid(command.definition(), validator);
        apply(new TemplateCreatedEvent(command.templateId(), command.name(), command.description(), command.actor()));
        apply(new TemplateVersionPublishedEvent(command.templateId(), 1, command.definition(), command.actor()));
        apply(new TemplateActiveVersionChangedEvent(command.templateId(), 1, command.actor()));
    }

    @CommandHandler
    public int handle(PublishTemplateVersionCommand command, TemplateSpecValidator validator) {
        requireNotArchived();
        TemplateRules.requireValid(command.definition(), validator);
        int version = latestVersion + 1;
        apply(new TemplateVersionPublishedEvent(templateId, version, command.definition(), command.actor()));
        if (command.activate()) {
            apply(new TemplateActiveVersionChangedEvent(templateId, version, command.actor()));
        }
        return version;
    }

    @CommandHandler
    public void handle(SetActiveTemplateVersionCommand command) {
        requireNotArchived();
        if (command.version() < 1 || command.version() > latestVersion) {
            throw DomainRuleViolation.invalid("template " + templateId + " has no version " + command.version()
                    + " (versions 1.." + latestVersion + ")");
        }
        if (command.version() != activeVersion) {
            apply(new TemplateActiveVersionChangedEvent(templateId, command.version(), command.actor()));
        }
    }

    @CommandHandler
    public void handle(ArchiveTemplateCommand command) {
        if (!archived) {
            apply(new TemplateArchivedEvent(templateId, command.actor()));
        }
    }

    private void requireNotArchived() {
        if (archived) {
            throw DomainRuleViolation.conflict("template " + templateId + " is archived");
        }
    }

    @EventSourcingHandler
    void on(TemplateCreatedEvent event) {
        templateId = event.templateId();
    }

    @EventSourcingHandler
    void on(TemplateVersionPublishedEvent event) {
        latestVersion = event.version();
    }

    @EventSourcingHandler
    void on(TemplateActiveVersionChangedEvent event) {
        activeVersion = event.version();
    }

    @EventSourcingHandler
    void on(TemplateArchivedEvent event) {
        archived = true;
    }
}
