package dev.atelier.providers.cloud;

import dev.atelier.provider.ProviderException;

import java.util.Set;

/**
 * A cloud API call that failed, with the cloud's own error code (such as {@code VcpuLimitExceeded},
 * {@code rateLimitExceeded}, {@code OperationNotAllowed}), so that a provider can act on one code and the user reads
 * the cloud's words. Whether it is retryable is decided once, the same way for every cloud, by {@link #retryable}.
 */
public class CloudError extends ProviderException {

    private final String code;

    public CloudError(String message, String code, boolean retryable, Throwable cause) {
        super(message, retryable, cause);
        this.code = code;
    }

    /** {@code <cloud> <action> failed: <code>: <message>}, the form EC2 and Azure errors take. */
    public static CloudError failed(String cloud, String action, String code, String message, boolean retryable,
                                    Throwable cause) {
        return new CloudError(cloud + " " + action + " failed: " + code + ": " + message, code, retryable, cause);
    }

    public String code() {
        return code;
    }

    /**
     * Throttling (429) and server errors (5xx) may pass with time; so may the codes a cloud documents as transient.
     * Everything else (quota, invalid value, permission) will not: retrying it only delays the user's answer. The
     * SDKs have already retried the transient ones within the call by the time an error gets here, so retryable
     * means "the engine may try the step again later", boundedly.
     */
    public static boolean retryable(int httpStatus, String code, Set<String> transientCodes) {
        return httpStatus == 429 || httpStatus >= 500 || (code != null && transientCodes.contains(code));
    }

    /** Whether {@code type} is among the causes of {@code e} (an I/O error wrapped by an SDK, say). */
    public static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The resource a call named does not exist (any more). Providers turn it into "absent" or "gone". */
    public static final class NotFound extends CloudError {
        public NotFound(String message) {
            super(message, "NotFound", false, null);
        }
    }

    /** The resource a create named exists already: an earlier attempt of the workspace, or someone else's. */
    public static final class AlreadyExists extends CloudError {
        public AlreadyExists(String message) {
            super(message, "AlreadyExists", false, null);
        }
    }
}
