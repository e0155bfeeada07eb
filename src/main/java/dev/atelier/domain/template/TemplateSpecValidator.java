package dev.atelier.domain.template;

import java.util.List;
import java.util.Map;

/** Asks the named provider whether it understands a spec; implemented by the engine's provider registry. */
public interface TemplateSpecValidator {

    /** @return the problems found, empty when the spec is valid */
    List<String> validate(String provider, Map<String, Object> spec);
}
