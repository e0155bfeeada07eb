package dev.atelier.providers.cloud;

import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The skeleton of a provider that runs each workspace as one cloud VM ({@code aws-ec2}, {@code gcp-compute},
 * {@code azure-vm}). It holds what these providers share, so that each keeps only its lifecycle, its spec and its
 * SDK calls:
 * <ul>
 *   <li>the locations (regions, zones) templates may name: the release's list plus the operator's extra ones;</li>
 *   <li>the SDK clients, one per scope (region, subscription), built on first use ({@link ClientCache});</li>
 *   <li>the scopes inventory searches: the configured ones plus every one a workspace used since start-up;</li>
 *   <li>the answers every VM lifecycle gives: in progress with an {@link OperationId}, stopped, deleted, absent, and
 *       the error for a VM that is gone;</li>
 *   <li>{@link #poll}: reading the operation id, old forms included, and the kinds every VM provider has
 *       ({@link VmOperations#START_AGAIN}, {@link VmOperations#STOP_AGAIN}).</li>
 * </ul>
 *
 * @param <C> the cloud's client (or bundle of clients) for one scope
 * @param <R> the cloud's address of one VM
 */
public abstract class VmWorkspaceProvider<C, R extends VmRef> implements WorkspaceProvider {

    private final String name;
    private final String vmNoun;
    private final ClientCache<C> clients;
    private final Duration pollInterval;
    private final List<String> locations;
    private final Set<String> inventoryScopes = ConcurrentHashMap.newKeySet();

    /**
     * @param name            the provider's name ({@code aws-ec2})
     * @param vmNoun          how messages name one VM ({@code EC2 instance})
     * @param knownLocations  the locations this release knows
     * @param extraLocations  locations the operator added
     * @param inventoryScopes scopes inventory always searches
     */
    protected VmWorkspaceProvider(String name, String vmNoun, ClientCache<C> clients, Duration pollInterval,
                                  List<String> knownLocations, List<String> extraLocations,
                                  Collection<String> inventoryScopes) {
        this.name = name;
        this.vmNoun = vmNoun;
        this.clients = clients;
        this.pollInterval = pollInterval;
        Set<String> known = new LinkedHashSet<>(knownLocations);
        known.addAll(extraLocations);
        this.locations = List.copyOf(known);
        this.inventoryScopes.addAll(inventoryScopes);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final ProviderOperation poll(ProvisionRequest request, String operationId) {
        OperationId operation = OperationId.parse(name, operationId, this::legacyOperation);
        if (operation.is(VmOperations.START_AGAIN)) {
            return start(request);
        }
        if (operation.is(VmOperations.STOP_AGAIN)) {
            return stop(request);
        }
        return poll(request, operation);
    }

    /** Checks on any other operation this provider returned as in progress. */
    protected abstract ProviderOperation poll(ProvisionRequest request, OperationId operation);

    /** This provider's operation ids of before {@link OperationId}, read as one; null for anything else. */
    protected abstract OperationId legacyOperation(String old);

    /** The locations templates may name, for reading a spec. */
    protected final List<String> locations() {
        return locations;
    }

    protected final Duration pollInterval() {
        return pollInterval;
    }

    protected final C client(String scope) {
        return clients.get(scope);
    }

    /** A scope a workspace uses: inventory searches it from now on. */
    protected final void remember(String scope) {
        inventoryScopes.add(scope);
    }

    /** The scopes inventory searches, in a stable order. */
    protected final List<String> inventoryScopes() {
        return List.copyOf(new TreeSet<>(inventoryScopes));
    }

    protected final ProviderOperation inProgress(R ref, String kind) {
        return inProgress(ref, OperationId.of(kind));
    }

    protected final ProviderOperation inProgress(R ref, OperationId operation) {
        return ProviderOperation.inProgress(ref.id(), operation, pollInterval);
    }

    /** Done, with the VM kept (stopped) and no connection. */
    protected static ProviderOperation stopped(VmRef ref) {
        return ProviderOperation.done(ref.id(), Map.of());
    }

    /** Done, with nothing left of the workspace. */
    protected static ProviderOperation deleted() {
        return ProviderOperation.done(null, Map.of());
    }

    /** What describe answers when the workspace has no VM. */
    protected static ResourceDescription absent() {
        return new ResourceDescription(null, ResourceDescription.State.ABSENT, Map.of(), Map.of());
    }

    /** The VM the workspace recorded does not exist any more (deleted outside Atelier). */
    protected final ProviderException gone(R ref) {
        return ProviderException.permanent(vmNoun + " " + ref.id() + " no longer exists; delete this workspace and "
                + "create it again");
    }

    /** The VM is in a state it does not come back from (terminated, failed). */
    protected final ProviderException unusable(R ref, String state) {
        return ProviderException.permanent(vmNoun + " " + ref.id() + " is " + state + "; delete this workspace and "
                + "create it again");
    }
}
