package dev.atelier.projections.templates;

/** Queries answered by {@link TemplateProjection}. */
public final class TemplateQueries {

    private TemplateQueries() {
    }

    public record FindTemplate(String templateId) {
    }

    public record ListTemplates(boolean includeArchived) {
    }
}
