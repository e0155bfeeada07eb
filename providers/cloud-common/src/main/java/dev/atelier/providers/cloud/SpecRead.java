package dev.atelier.providers.cloud;

import dev.atelier.provider.ProviderException;

import java.util.List;

/**
 * A template spec as read by {@link SpecReader}: the values (null where a value is missing or invalid) and every
 * problem found. Publishing a template version shows the problems; a provider call needs a spec without any.
 */
public record SpecRead<S>(S spec, List<String> problems) {

    public SpecRead {
        problems = List.copyOf(problems);
    }

    /**
     * The spec of a request, which was valid when its template version was published; a problem now means the
     * rules changed since, and the call fails with the problems named.
     */
    public S require(String provider) {
        if (!problems.isEmpty()) {
            throw ProviderException.permanent("the template's " + provider + " spec is invalid: "
                    + String.join("; ", problems));
        }
        return spec;
    }
}
