package dev.atelier.domain.template;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

public record PublishTemplateVersionCommand(
        @TargetAggregateIdentifier String templateId,
        TemplateDefinition definition,
        boolean activate,
        Actor actor) {
}
