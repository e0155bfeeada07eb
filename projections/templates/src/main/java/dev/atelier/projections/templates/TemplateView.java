package dev.atelier.projections.templates;

import dev.atelier.domain.template.TemplateDefinition;

import java.time.Instant;
import java.util.List;

/** A template as the API shows it, with its published versions (newest last). */
public record TemplateView(String id, String name, String description, int activeVersion, int latestVersion,
                           boolean archived, String createdBy, Instant createdAt, Instant updatedAt,
                           List<Version> versions) {

    /** @param released the version is or was the active one (members may use only released versions) */
    public record Version(int version, TemplateDefinition definition, String publishedBy, Instant publishedAt,
                          boolean released) {
    }
}
