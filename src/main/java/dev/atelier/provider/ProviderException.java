package dev.atelier.provider;

/**
 * A provider call failed. Retryable failures (throttling, a 5xx, a busy host) are retried by the engine with
 * backoff; the others (bad image, quota, invalid spec) fail the transition with this message.
 */
public class ProviderException extends RuntimeException {

    private final boolean retryable;

    public ProviderException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public ProviderException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public static ProviderException retryable(String message, Throwable cause) {
        return new ProviderException(message, true, cause);
    }

    public static ProviderException permanent(String message) {
        return new ProviderException(message, false);
    }

    public boolean retryable() {
        return retryable;
    }
}
