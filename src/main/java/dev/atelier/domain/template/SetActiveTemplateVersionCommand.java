package dev.atelier.domain.template;

import dev.atelier.domain.shared.Actor;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

public record SetActiveTemplateVersionCommand(
        @TargetAggregateIdentifier String templateId,
        int version,
        Actor actor) {
}
