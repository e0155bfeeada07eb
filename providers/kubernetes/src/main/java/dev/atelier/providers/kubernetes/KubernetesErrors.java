package dev.atelier.providers.kubernetes;

import dev.atelier.provider.ProviderException;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Kubernetes API failures as provider errors: throttling (429), server errors (5xx), conflicts (409) and
 * connection failures are retried by the engine; the rest fail the transition with what to do about them.
 * Messages carry the API's status message, never a request body (a Secret's would hold the agent token).
 */
final class KubernetesErrors {

    private KubernetesErrors() {
    }

    static ProviderException translate(String verb, String kind, String namespace, KubernetesClientException e) {
        int code = e.getCode();
        String where = kind + " in namespace " + namespace;
        String status = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                : firstLine(e.getMessage());
        if (code <= 0) {
            // No HTTP answer at all (connection refused, timeout, TLS): fabric8 reports code -1 or 0.
            return ProviderException.retryable("could not reach the Kubernetes API to " + verb + " " + where + ": "
                    + rootCause(e), e);
        }
        if (code == 429 || code >= 500 || code == 409) {
            return ProviderException.retryable("Kubernetes API answered " + code + " to " + verb + " " + where + ": "
                    + status, e);
        }
        return switch (code) {
            case 401 -> new ProviderException("the Kubernetes API refused the engine's credentials (401) to " + verb
                    + " " + where + ": check the kubeconfig or service account the engine runs with", false, e);
            case 403 -> new ProviderException("the engine may not " + verb + " " + where + " (403 Forbidden: " + status
                    + "); grant its service account the permissions listed in docs/providers/kubernetes.md", false, e);
            case 404 -> new ProviderException("could not " + verb + " " + where + " (404: " + status + "); does the "
                    + "namespace exist? Create it or name another one in the template", false, e);
            case 422 -> new ProviderException("Kubernetes refused the " + kind + " (422 Invalid: " + status
                    + "); fix the template's spec", false, e);
            default -> new ProviderException("Kubernetes API answered " + code + " to " + verb + " " + where + ": "
                    + status, false, e);
        };
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() != null ? ": " + firstLine(root.getMessage()) : "");
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "(no message)";
        }
        int nl = text.indexOf('\n');
        String line = nl < 0 ? text : text.substring(0, nl);
        return line.length() > 500 ? line.substring(0, 500) + "…" : line;
    }
}
