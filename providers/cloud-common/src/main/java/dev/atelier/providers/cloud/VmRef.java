package dev.atelier.providers.cloud;

import dev.atelier.provider.ProviderException;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where one workspace VM is, as the cloud addresses it (region and instance id, project/zone/name, subscription,
 * resource group and name). {@link #id()} is the workspace's resource id, which the engine records and hands back in
 * every later request; each provider parses it back with {@link #match}.
 */
public interface VmRef {

    /** The resource id the engine records. */
    String id();

    /**
     * Matches a recorded resource id against the provider's pattern.
     *
     * @param shape what a valid id looks like, for the error: "an aws-ec2 resource id (&lt;region&gt;/&lt;instance id&gt;)"
     * @throws ProviderException (permanent) for an id that does not match
     */
    static Matcher match(Pattern pattern, String resourceId, String shape) {
        Matcher m = resourceId == null ? null : pattern.matcher(resourceId);
        if (m == null || !m.matches()) {
            throw ProviderException.permanent("'" + resourceId + "' is not " + shape);
        }
        return m;
    }
}
