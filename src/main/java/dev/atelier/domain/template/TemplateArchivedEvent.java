package dev.atelier.domain.template;

import dev.atelier.domain.shared.Actor;
import org.axonframework.serialization.Revision;

@Revision("1")
public record TemplateArchivedEvent(
        String templateId,
        Actor actor) {
}
