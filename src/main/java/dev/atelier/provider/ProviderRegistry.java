package dev.atelier.provider;

import dev.atelier.domain.template.TemplateSpecValidator;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The providers enabled by configuration, by name. */
@Component
public class ProviderRegistry implements TemplateSpecValidator {

    private final Map<String, WorkspaceProvider> providers;

    public ProviderRegistry(List<WorkspaceProvider> providers) {
        this.providers = providers.stream()
                .collect(Collectors.toMap(WorkspaceProvider::name, Function.identity(), (a, b) -> {
                    throw new IllegalStateException("two providers are named '" + a.name() + "'");
                }, TreeMap::new));
    }

    public Optional<WorkspaceProvider> find(String name) {
        return Optional.ofNullable(providers.get(name));
    }

    public WorkspaceProvider get(String name) {
        return find(name).orElseThrow(() -> ProviderException.permanent("provider '" + name
                + "' is not enabled on this engine (enabled: " + providers.keySet() + ")"));
    }

    public java.util.Set<String> names() {
        return providers.keySet();
    }

    @Override
    public List<String> validate(String provider, Map<String, Object> spec) {
        WorkspaceProvider p = providers.get(provider);
        if (p == null) {
            return List.of("unknown provider '" + provider + "' (enabled: " + String.join(", ", providers.keySet()) + ")");
        }
        return p.validateSpec(spec == null ? Map.of() : spec);
    }
}
