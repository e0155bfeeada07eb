package dev.atelier.provider;

import java.util.List;
import java.util.Map;

/**
 * What the engine asks of the infrastructure. The engine decides; a provider only acts. Every call carries an
 * idempotency key (workspace id + build number) so that a repeated call for the same build never makes a second
 * resource. Slow operations return {@link ProviderOperation#inProgress}; the engine polls them later with
 * {@link #poll} instead of holding a thread. Failures are {@link ProviderException}s that say whether a retry
 * may help.
 */
public interface WorkspaceProvider {

    /** The {@code provider} value of templates this provider serves, such as {@code local} or {@code docker}. */
    String name();

    /** @return problems with a template spec, in words a template author understands; empty when valid */
    List<String> validateSpec(Map<String, Object> spec);

    ProviderOperation create(ProvisionRequest request);

    ProviderOperation start(ProvisionRequest request);

    ProviderOperation stop(ProvisionRequest request);

    /** Removes everything the workspace owns; removing what is already gone succeeds. */
    ProviderOperation delete(ProvisionRequest request);

    /** Checks on an operation that returned {@link ProviderOperation#inProgress}. */
    ProviderOperation poll(ProvisionRequest request, String operationId);

    ResourceDescription describe(ProvisionRequest request);

    /** Resources this provider manages that carry all of the given labels (for orphan detection). */
    List<ResourceDescription> inventory(Map<String, String> labels);
}
