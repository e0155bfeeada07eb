package dev.atelier.providers.gcp;

import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.Items;
import com.google.cloud.compute.v1.Metadata;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.Tags;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.providers.cloud.Idempotency;
import dev.atelier.providers.cloud.VmConnection;
import dev.atelier.providers.cloud.VmUserData;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The Compute Engine instance of a workspace: the body {@code instances.insert} takes (labels, boot disk that goes
 * with the VM, network, scheduling for GPUs and spot, accelerators), the metadata that carries the user data, and how
 * an instance reads back as a workspace (state, connection).
 */
final class GceInstances {

    static final String WORKSPACE_LABEL = "atelier-workspace-id";
    static final String USER_DATA = "user-data";
    static final String SSH_KEYS = "ssh-keys";
    static final String STARTUP_SCRIPT = "startup-script";
    /**
     * Images without cloud-init (Google's Debian images, for one) run the user data through the guest environment's
     * start-up script instead, at every boot; where cloud-init exists it does nothing.
     */
    static final String STARTUP_SHIM = "#!/bin/sh\n"
            + "# Atelier: images without cloud-init run the workspace's user data here, at every boot.\n"
            + "command -v cloud-init >/dev/null 2>&1 && exit 0\n"
            + "umask 077\n"
            + "curl -sf -H 'Metadata-Flavor: Google' "
            + "'http://metadata.google.internal/computeMetadata/v1/instance/attributes/user-data' > /run/atelier-user-data "
            + "&& exec sh /run/atelier-user-data\n";
    static final String REFETCH = "curl -sf -H 'Metadata-Flavor: Google' "
            + "'http://metadata.google.internal/computeMetadata/v1/instance/attributes/user-data'";
    /** Metadata keys Atelier writes; a new build replaces them and keeps every other item. */
    private static final Set<String> OWN_METADATA = Set.of(USER_DATA, SSH_KEYS, STARTUP_SCRIPT);

    private GceInstances() {
    }

    /** The instance of a workspace as {@code instances.insert} takes it. */
    static Instance instance(ProvisionRequest request, GceSpec spec, String name) {
        String zone = spec.zone();
        Map<String, String> labels = new LinkedHashMap<>(spec.labels());
        request.labels().forEach((k, v) -> labels.put(k, labelValue(v)));
        labels.put(WORKSPACE_LABEL, labelValue(request.workspaceId()));
        AttachedDiskInitializeParams.Builder disk = AttachedDiskInitializeParams.newBuilder()
                .setSourceImage(spec.image())
                .setDiskType("zones/" + zone + "/diskTypes/" + spec.diskType())
                .putAllLabels(labels);
        if (spec.diskGb() != null) {
            disk.setDiskSizeGb(spec.diskGb());
        }
        NetworkInterface.Builder nic = NetworkInterface.newBuilder()
                .setNetwork(spec.network().contains("/") ? spec.network() : "global/networks/" + spec.network());
        if (spec.subnetwork() != null) {
            nic.setSubnetwork(spec.subnetwork().contains("/") ? spec.subnetwork()
                    : "regions/" + spec.region() + "/subnetworks/" + spec.subnetwork());
        }
        if (spec.publicIp()) {
            nic.addAccessConfigs(AccessConfig.newBuilder().setName("External NAT").setType("ONE_TO_ONE_NAT"));
        }
        Scheduling.Builder scheduling = Scheduling.newBuilder()
                // GPUs cannot live-migrate; spot VMs are stopped (not deleted) when preempted, so they can start again.
                .setOnHostMaintenance(spec.hasGpus() || spec.spot() ? "TERMINATE" : "MIGRATE")
                .setAutomaticRestart(!spec.spot())
                .setProvisioningModel(spec.spot() ? "SPOT" : "STANDARD");
        if (spec.spot()) {
            scheduling.setInstanceTerminationAction("STOP");
        }
        Instance.Builder instance = Instance.newBuilder()
                .setName(name)
                .setMachineType("zones/" + zone + "/machineTypes/" + spec.machineType())
                .putAllLabels(labels)
                .setMetadata(Metadata.newBuilder().addAllItems(metadataItems(spec, userData(request, spec))))
                .addDisks(AttachedDisk.newBuilder().setBoot(true).setAutoDelete(true).setType("PERSISTENT")
                        .setInitializeParams(disk))
                .addNetworkInterfaces(nic)
                .setScheduling(scheduling);
        if (!spec.networkTags().isEmpty()) {
            instance.setTags(Tags.newBuilder().addAllItems(spec.networkTags()));
        }
        spec.accelerators().forEach(a -> instance.addGuestAccelerators(AcceleratorConfig.newBuilder()
                .setAcceleratorType("zones/" + zone + "/acceleratorTypes/" + a.type()).setAcceleratorCount(a.count())));
        return instance.build();
    }

    /** The metadata items Atelier owns: user data, the start-up shim, and the template's SSH key. */
    static List<Items> metadataItems(GceSpec spec, String userData) {
        List<Items> items = new ArrayList<>();
        items.add(Items.newBuilder().setKey(USER_DATA).setValue(userData).build());
        items.add(Items.newBuilder().setKey(STARTUP_SCRIPT).setValue(STARTUP_SHIM).build());
        if (spec.sshPublicKey() != null) {
            // The guest environment creates the user (with sudo) and authorises the key.
            items.add(Items.newBuilder().setKey(SSH_KEYS).setValue(spec.sshUser() + ":" + spec.sshPublicKey()).build());
        }
        return items;
    }

    /**
     * The metadata of a stopped instance with the new build's items, or empty when its user data is the build's
     * already. The fingerprint makes Compute Engine refuse the change if someone else changed the metadata meanwhile.
     */
    static Optional<Metadata> newBuildMetadata(Instance instance, ProvisionRequest request, GceSpec spec) {
        String userData = userData(request, spec);
        Optional<String> current = instance.getMetadata().getItemsList().stream()
                .filter(i -> USER_DATA.equals(i.getKey())).map(Items::getValue).findFirst();
        if (current.isPresent() && current.get().equals(userData)) {
            return Optional.empty();
        }
        Metadata.Builder metadata = Metadata.newBuilder().setFingerprint(instance.getMetadata().getFingerprint());
        instance.getMetadata().getItemsList().stream().filter(i -> !OWN_METADATA.contains(i.getKey()))
                .forEach(metadata::addItems);
        metadataItems(spec, userData).forEach(metadata::addItems);
        return Optional.of(metadata.build());
    }

    static String userData(ProvisionRequest request, GceSpec spec) {
        return VmUserData.build(request, spec.startupScript(), REFETCH, spec.sshUser(), null, null);
    }

    static Map<String, String> connection(GceWorkspaceProvider.Ref ref, Instance instance, String sshUser, int sshPort) {
        String privateIp = instance.getNetworkInterfacesCount() == 0 ? null : instance.getNetworkInterfaces(0).getNetworkIP();
        String publicIp = instance.getNetworkInterfacesCount() == 0 || instance.getNetworkInterfaces(0).getAccessConfigsCount() == 0
                ? null : instance.getNetworkInterfaces(0).getAccessConfigs(0).getNatIP();
        Map<String, String> c = VmConnection.ssh(publicIp, privateIp, sshUser, sshPort);
        c.put("instance", ref.name());
        c.put("zone", ref.zone());
        c.put("project", ref.project());
        return c;
    }

    static ResourceDescription description(GceWorkspaceProvider.Ref ref, Instance instance, String sshUser, int sshPort) {
        ResourceDescription.State state = switch (instance.getStatus()) {
            case "PROVISIONING", "STAGING", "REPAIRING" -> ResourceDescription.State.PROVISIONING;
            case "RUNNING" -> ResourceDescription.State.RUNNING;
            case "STOPPING", "STOPPED", "TERMINATED", "SUSPENDING", "SUSPENDED" -> ResourceDescription.State.STOPPED;
            default -> ResourceDescription.State.UNKNOWN;
        };
        return new ResourceDescription(ref.id(), state, Map.copyOf(instance.getLabelsMap()),
                state == ResourceDescription.State.RUNNING ? connection(ref, instance, sshUser, sshPort) : Map.of());
    }

    /** GCP label values: lower-case letters, digits, '_' and '-', at most 63. */
    static String labelValue(String value) {
        String lower = value.toLowerCase();
        return lower.matches("[a-z0-9_-]{0,63}") ? lower : Idempotency.token(value, 63).toLowerCase();
    }
}
