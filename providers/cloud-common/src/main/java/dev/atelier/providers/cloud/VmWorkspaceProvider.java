package dev.atelier.providers.cloud;

import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import dev.atelier.provider.WorkspaceShell;
import dev.atelier.providers.ssh.SshShells;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The skeleton of a provider that runs each workspace as one cloud VM ({@code aws-ec2}, {@code gcp-compute},
 * {@code azure-vm}). It holds what these providers share, so that each keeps only its lifecycle, its spec and its
 * SDK calls:
 * <ul>
 *   <li>the template spec: {@link #validateSpec} and the spec of a request, read by the provider's
 *       {@link #read};</li>
 *   <li>the locations (regions, zones) templates may name: the release's list plus the operator's extra ones;</li>
 *   <li>the SDK clients, one per scope (region, subscription), built on first use ({@link ClientCache});</li>
 *   <li>the scopes inventory searches: the configured ones plus every one a workspace used since start-up;</li>
 *   <li>the answers every VM lifecycle gives: in progress with an {@link OperationId}, stopped, deleted, absent, and
 *       the error for a VM that is gone;</li>
 *   <li>the frame of the lifecycle: {@link #start} and {@link #stop} find the recorded VM (or say it is gone) and go
 *       on from whatever state it is in ({@link #carryOnStarting}, {@link #carryOnStopping}); {@link #delete} and
 *       {@link #describe} find the recorded VM or the one named after the workspace ({@link #named}); what each
 *       step does on the cloud is the provider's;</li>
 *   <li>{@link #poll}: reading the operation id, old forms included, and the kinds every VM provider has
 *       ({@link VmOperations#START_AGAIN}, {@link VmOperations#STOP_AGAIN}).</li>
 *   <li>the SSH gateway's hop into the VM ({@link WorkspaceShell}): through the VM's sshd with the engine's gateway
 *       key, checked against the host keys the workspace's agent reported ({@link #open}).</li>
 * </ul>
 *
 * @param <C> the cloud's client (or bundle of clients) for one scope
 * @param <R> the cloud's address of one VM
 * @param <S> the provider's template spec
 * @param <V> the cloud's description of one VM, as its API answers
 */
public abstract class VmWorkspaceProvider<C, R extends VmRef, S, V> implements WorkspaceProvider, WorkspaceShell {

    private static final Logger log = LoggerFactory.getLogger(VmWorkspaceProvider.class);

    private final String name;
    private final String vmNoun;
    private final Function<String, R> refs;
    private final ClientCache<C> clients;
    private final Duration pollInterval;
    private final List<String> locations;
    private final Set<String> inventoryScopes = ConcurrentHashMap.newKeySet();
    private final SshShells hop;

    /**
     * @param name            the provider's name ({@code aws-ec2})
     * @param vmNoun          how messages name one VM ({@code EC2 instance})
     * @param refs            parses a recorded resource id (and refuses one that is not this provider's)
     * @param knownLocations  the locations this release knows
     * @param extraLocations  locations the operator added
     * @param inventoryScopes scopes inventory always searches
     * @param hop             the SSH gateway's hop into the VMs' sshd; null: these workspaces offer no shell
     */
    protected VmWorkspaceProvider(String name, String vmNoun, Function<String, R> refs, ClientCache<C> clients,
                                  Duration pollInterval,
                                  List<String> knownLocations, List<String> extraLocations,
                                  Collection<String> inventoryScopes, SshShells hop) {
        this.name = name;
        this.hop = hop;
        this.vmNoun = vmNoun;
        this.refs = refs;
        this.clients = clients;
        this.pollInterval = pollInterval;
        Set<String> known = new LinkedHashSet<>(knownLocations);
        known.addAll(extraLocations);
        this.locations = List.copyOf(known);
        this.inventoryScopes.addAll(inventoryScopes);
    }

    // --- the SSH gateway's hop ----------------------------------------------------------------------------------

    /**
     * A process on the VM, through its sshd as the template's {@code sshUser} with the engine's gateway key (which
     * the VM's user data authorised, {@link VmUserData}). The VM is checked against the host keys its agent reported
     * for the current build; until it has, the VM cannot be reached and the client is told to try again shortly.
     */
    @Override
    public ShellProcess open(Target target, ShellRequest request) {
        return hop().open(hopTarget(target), null, request);
    }

    /** A connection made by the VM's sshd (a direct-tcpip channel), so {@code localhost} is the VM. */
    @Override
    public ShellProcess connect(Target target, String host, int port) {
        return hop().connect(hopTarget(target), host, port);
    }

    private SshShells hop() {
        if (hop == null) {
            throw ProviderException.permanent(name + " workspaces offer no shell here: the engine has no gateway key");
        }
        return hop;
    }

    /**
     * Where the VM's sshd is: its private address when it has one (the engine runs inside the operator's network,
     * like Coder's provisioners), else the public one; the port and user from the connection info this provider
     * gave, each checked again since it is read back from the engine's store.
     */
    static SshShells.Target hopTarget(Target target) {
        Map<String, String> c = target.connection();
        String address = c.get("privateIp") != null ? c.get("privateIp") : c.get("sshHost");
        if (address == null || !SshShells.ADDRESS.matcher(address).matches()) {
            throw ProviderException.permanent("the VM of workspace " + target.workspaceId()
                    + " has no address in its connection info: is it running?");
        }
        int port;
        try {
            port = Integer.parseInt(c.getOrDefault("sshPort", Integer.toString(VmConnection.DEFAULT_SSH_PORT)));
        } catch (NumberFormatException e) {
            port = -1;
        }
        String user = c.get("sshUser");
        if (port < 1 || port > 65535 || user == null || !VmUserData.SSH_USER.matcher(user).matches()) {
            throw ProviderException.permanent("the connection info of workspace " + target.workspaceId()
                    + " names no valid SSH port and user");
        }
        if (target.hostKeys().isEmpty()) {
            throw ProviderException.permanent("the VM's SSH host keys are not known yet: the workspace agent reports "
                    + "them when the VM has booted; try again in a moment");
        }
        return new SshShells.Target(address, port, user, target.hostKeys());
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final List<String> validateSpec(Map<String, Object> spec) {
        return read(spec).problems();
    }

    /** Reads a template spec with the locations this engine knows ({@link #locations()}). */
    protected abstract SpecRead<S> read(Map<String, Object> spec);

    /** The spec of a request for a call that needs all of it: valid when its template version was published. */
    protected final S requireSpec(ProvisionRequest request) {
        return read(request.spec()).require(name);
    }

    /** The spec of a request as far as it reads (missing or invalid values null): enough to find a VM by. */
    protected final S readSpec(ProvisionRequest request) {
        return read(request.spec()).spec();
    }

    /** The VM a recorded resource id names. */
    protected final R ref(String resourceId) {
        return refs.apply(resourceId);
    }

    /**
     * The workspace's VM: the recorded one or, with none recorded (the create failed or its answer was lost), the
     * one with the workspace's name ({@link #named}); empty when there is nothing to look for.
     */
    protected final Optional<R> ref(ProvisionRequest request) {
        return request.resourceId() != null ? Optional.of(ref(request.resourceId()))
                : named(readSpec(request), request.workspaceId());
    }

    /**
     * Where the workspace's VM would be, for a cloud where the provider names it after the workspace; empty when the
     * spec names no place, and for a cloud that names VMs itself (EC2: the provider finds them by tag instead).
     */
    protected Optional<R> named(S spec, String workspaceId) {
        return Optional.empty();
    }

    /** The VM as the cloud describes it now; empty when it does not exist (any more). */
    protected abstract Optional<V> find(R ref);

    /**
     * Goes on towards a running VM from whatever state it is in: running (done), starting (poll), stopping (start
     * again later), stopped (give it the build's user data, start it).
     */
    protected abstract ProviderOperation carryOnStarting(ProvisionRequest request, S spec, R ref, V vm);

    /** Goes on towards a stopped VM (disk kept) from whatever state it is in. */
    protected abstract ProviderOperation carryOnStopping(ProvisionRequest request, R ref, V vm);

    /** How the VM reads back as a workspace: state, labels, connection when it runs. */
    protected abstract ResourceDescription describe(R ref, V vm, S spec);

    @Override
    public ResourceDescription describe(ProvisionRequest request) {
        S spec = readSpec(request);
        Optional<R> ref = ref(request);
        return ref.flatMap(this::find).map(vm -> describe(ref.get(), vm, spec)).orElseGet(VmWorkspaceProvider::absent);
    }

    @Override
    public final ProviderOperation start(ProvisionRequest request) {
        R ref = ref(request.resourceId());
        S spec = requireSpec(request);
        V vm = find(ref).orElseThrow(() -> gone(ref));
        return carryOnStarting(request, spec, ref, vm);
    }

    /**
     * A create that finds the workspace's VM already there (an earlier build made it and its answer was lost, or a
     * repeated create): carry on with that VM, never make a second one.
     */
    protected final ProviderOperation takeOver(ProvisionRequest request, S spec, R ref, V existing) {
        log.info("workspace {} build {}: {} {} exists already, using it", request.workspaceId(), request.buildNumber(),
                vmNoun, ref.id());
        return carryOnStarting(request, spec, ref, existing);
    }

    @Override
    public final ProviderOperation stop(ProvisionRequest request) {
        if (request.resourceId() == null) {
            return deleted();
        }
        R ref = ref(request.resourceId());
        return carryOnStopping(request, ref, find(ref).orElseThrow(() -> gone(ref)));
    }

    /** Deletes the VM with what goes with it (disk, NIC, address); a VM that is gone is deleted. */
    protected abstract ProviderOperation delete(ProvisionRequest request, R ref);

    /** The workspace's VM (see {@link #ref(ProvisionRequest)}), or done when there is none to look for. */
    @Override
    public ProviderOperation delete(ProvisionRequest request) {
        Optional<R> ref = ref(request);
        return ref.isEmpty() ? deleted() : delete(request, ref.get());
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
