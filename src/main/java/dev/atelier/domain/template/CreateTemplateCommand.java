package dev.atelier.domain.template;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

public record CreateTemplateCommand(
        @TargetAggregateIdentifier String templateId,
        String name,
        String description,
        TemplateDefinition definition,
        Actor actor) {
}
