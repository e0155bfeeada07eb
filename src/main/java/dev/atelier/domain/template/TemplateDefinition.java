package dev.atelier.domain.template;

import java.util.List;
import java.util.Map;

/** What one published template version says: where and how workspaces run, what they cost. */
public record TemplateDefinition(
        String provider,
        Map<String, Object> spec,
        List<TemplateParameter> parameters,
        LifecyclePolicy policy,
        Pricing pricing) {

    public TemplateDefinition {
        spec = spec == null ? Map.of() : Map.copyOf(spec);
        parameters = parameters == null ? List.of() : List.copyOf(parameters);
        policy = policy == null ? LifecyclePolicy.NONE : policy;
    }
}
