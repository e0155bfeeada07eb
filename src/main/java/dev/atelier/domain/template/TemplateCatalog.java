package dev.atelier.domain.template;

import java.util.Optional;

/** Read access to published template versions, for decisions on workspaces (implemented by a projection). */
public interface TemplateCatalog {

    Optional<TemplateVersionRef> find(String templateId, Integer version);

    /** A resolved template version; {@code version} is the active one when none was asked for. */
    record TemplateVersionRef(String templateId, int version, boolean archived, TemplateDefinition definition) {
    }
}
