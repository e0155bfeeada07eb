package dev.atelier.domain.template;

import java.util.List;

/**
 * A value a workspace owner supplies when creating a workspace from a template version.
 * Immutable parameters ({@code mutable=false}) cannot change after creation, also not on update.
 */
public record TemplateParameter(
        String name,
        Type type,
        String description,
        String defaultValue,
        List<String> allowedValues,
        boolean mutable,
        boolean required) {

    public enum Type { STRING, NUMBER, BOOL }

    public TemplateParameter {
        allowedValues = allowedValues == null ? List.of() : List.copyOf(allowedValues);
        type = type == null ? Type.STRING : type;
    }
}
