package dev.atelier.providers.azure;

import com.azure.core.management.SubResource;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.models.BillingProfile;
import com.azure.resourcemanager.compute.models.CachingTypes;
import com.azure.resourcemanager.compute.models.DeleteOptions;
import com.azure.resourcemanager.compute.models.DiskCreateOptionTypes;
import com.azure.resourcemanager.compute.models.DiskDeleteOptionTypes;
import com.azure.resourcemanager.compute.models.HardwareProfile;
import com.azure.resourcemanager.compute.models.ImageReference;
import com.azure.resourcemanager.compute.models.InstanceViewStatus;
import com.azure.resourcemanager.compute.models.LinuxConfiguration;
import com.azure.resourcemanager.compute.models.ManagedDiskParameters;
import com.azure.resourcemanager.compute.models.NetworkApiVersion;
import com.azure.resourcemanager.compute.models.NetworkInterfaceReference;
import com.azure.resourcemanager.compute.models.NetworkProfile;
import com.azure.resourcemanager.compute.models.OSDisk;
import com.azure.resourcemanager.compute.models.OSProfile;
import com.azure.resourcemanager.compute.models.PublicIpAddressSku;
import com.azure.resourcemanager.compute.models.PublicIpAddressSkuName;
import com.azure.resourcemanager.compute.models.PublicIpAddressSkuTier;
import com.azure.resourcemanager.compute.models.PublicIpAllocationMethod;
import com.azure.resourcemanager.compute.models.SshConfiguration;
import com.azure.resourcemanager.compute.models.SshPublicKey;
import com.azure.resourcemanager.compute.models.StorageAccountTypes;
import com.azure.resourcemanager.compute.models.StorageProfile;
import com.azure.resourcemanager.compute.models.VirtualMachineEvictionPolicyTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineNetworkInterfaceConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachineNetworkInterfaceIpConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachinePriorityTypes;
import com.azure.resourcemanager.compute.models.VirtualMachinePublicIpAddressConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachineSizeTypes;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.providers.cloud.VmConnection;
import dev.atelier.providers.cloud.VmUserData;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Azure VM of a workspace: the body one PUT creates it with (its NIC and public IP created by the VM itself,
 * network API 2020-11-01, and its OS disk, all with delete option {@code Delete}, so that deleting the VM removes
 * them; spot with deallocation on eviction), its user data, and how a VM reads back as a workspace (power and
 * provisioning state from the instance view, connection from the NIC and public IP).
 */
final class AzureVms {

    static final String WORKSPACE_TAG = "atelier-workspace-id";
    static final int USER_DATA_LIMIT = 48 * 1024;
    static final String REFETCH = "curl -sf -H 'Metadata: true' "
            + "'http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text' | base64 -d";
    private static final Pattern NETWORK_ID = Pattern.compile("/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/"
            + "Microsoft\\.Network/(networkInterfaces|publicIPAddresses)/([^/]+)", Pattern.CASE_INSENSITIVE);

    private AzureVms() {
    }

    /** The VM of a workspace as one PUT creates it, with its NIC, public IP and OS disk that go with it. */
    static VirtualMachineInner vm(ProvisionRequest request, AzureVmSpec spec, String name) {
        String userData = userData(request, spec);
        Map<String, String> tags = new LinkedHashMap<>(spec.tags());
        tags.putAll(request.labels());
        tags.put(WORKSPACE_TAG, request.workspaceId());
        ImageReference image = spec.imageIsUrn() ? urn(spec.image()) : new ImageReference().withId(spec.image());
        VirtualMachineNetworkInterfaceIpConfiguration ip = new VirtualMachineNetworkInterfaceIpConfiguration()
                .withName(name + "-ip").withPrimary(true).withSubnet(new SubResource().withId(spec.subnetId()));
        if (spec.publicIp()) {
            ip.withPublicIpAddressConfiguration(new VirtualMachinePublicIpAddressConfiguration()
                    .withName(name + "-pip")
                    .withSku(new PublicIpAddressSku().withName(PublicIpAddressSkuName.STANDARD)
                            .withTier(PublicIpAddressSkuTier.REGIONAL))
                    .withPublicIpAllocationMethod(PublicIpAllocationMethod.STATIC)
                    .withDeleteOption(DeleteOptions.DELETE));
        }
        VirtualMachineNetworkInterfaceConfiguration nic = new VirtualMachineNetworkInterfaceConfiguration()
                .withName(name + "-nic").withPrimary(true).withDeleteOption(DeleteOptions.DELETE)
                .withIpConfigurations(List.of(ip));
        if (spec.nsgId() != null) {
            nic.withNetworkSecurityGroup(new SubResource().withId(spec.nsgId()));
        }
        VirtualMachineInner vm = new VirtualMachineInner()
                .withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString(spec.vmSize())))
                .withStorageProfile(new StorageProfile().withImageReference(image).withOsDisk(new OSDisk()
                        .withName(name + "-os")
                        .withCreateOption(DiskCreateOptionTypes.FROM_IMAGE)
                        .withCaching(CachingTypes.READ_WRITE)
                        .withDiskSizeGB(spec.diskGb())
                        .withDeleteOption(DiskDeleteOptionTypes.DELETE)
                        .withManagedDisk(new ManagedDiskParameters()
                                .withStorageAccountType(StorageAccountTypes.fromString(spec.diskType())))))
                .withOsProfile(new OSProfile()
                        .withComputerName(name)
                        .withAdminUsername(spec.sshUser())
                        // cloud-init runs the custom data at the first boot; later boots fetch userData from IMDS.
                        .withCustomData(userData)
                        .withLinuxConfiguration(new LinuxConfiguration()
                                .withDisablePasswordAuthentication(true)
                                .withSsh(new SshConfiguration().withPublicKeys(List.of(new SshPublicKey()
                                        .withPath("/home/" + spec.sshUser() + "/.ssh/authorized_keys")
                                        .withKeyData(spec.sshPublicKey()))))))
                .withNetworkProfile(new NetworkProfile()
                        .withNetworkApiVersion(NetworkApiVersion.TWO_ZERO_TWO_ZERO_ONE_ONE_ZERO_ONE)
                        .withNetworkInterfaceConfigurations(List.of(nic)))
                .withUserData(userData);
        vm.withLocation(spec.location()).withTags(tags);
        if (spec.zone() != null) {
            vm.withZones(List.of(spec.zone()));
        }
        if (spec.spot()) {
            // Evicted spot VMs are deallocated (not deleted), so they can start again; pay at most the on-demand price.
            vm.withPriority(VirtualMachinePriorityTypes.SPOT)
                    .withEvictionPolicy(VirtualMachineEvictionPolicyTypes.DEALLOCATE)
                    .withBillingProfile(new BillingProfile().withMaxPrice(-1.0));
        }
        return vm;
    }

    private static ImageReference urn(String urn) {
        String[] parts = urn.split(":");
        return new ImageReference().withPublisher(parts[0]).withOffer(parts[1]).withSku(parts[2]).withVersion(parts[3]);
    }

    /** The user data of a build, base64-encoded as ARM takes it; the SSH key is part of the VM's OS profile instead. */
    static String userData(ProvisionRequest request, AzureVmSpec spec) {
        return base64(VmUserData.atMost(VmUserData.build(request, spec.startupScript(), REFETCH, spec.sshUser(), null, null),
                USER_DATA_LIMIT, "Azure"));
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    // --- reading a VM

    static String powerState(VirtualMachineInner vm) {
        return statusCode(vm, "PowerState/");
    }

    static String provisioningState(VirtualMachineInner vm) {
        String fromView = statusCode(vm, "ProvisioningState/");
        return !fromView.isEmpty() ? fromView : vm.provisioningState() == null ? "" : vm.provisioningState().toLowerCase();
    }

    static String statusCode(VirtualMachineInner vm, String prefix) {
        return statuses(vm).stream().map(InstanceViewStatus::code).filter(c -> c != null && c.startsWith(prefix))
                .map(c -> c.substring(prefix.length())).findFirst().orElse("");
    }

    static String statusMessage(VirtualMachineInner vm, String prefix) {
        return statuses(vm).stream().filter(s -> s.code() != null && s.code().startsWith(prefix))
                .map(s -> s.code() + (s.message() == null ? "" : ": " + s.message())).findFirst().orElse("unknown reason");
    }

    static List<InstanceViewStatus> statuses(VirtualMachineInner vm) {
        if (vm.instanceView() == null || vm.instanceView().statuses() == null) {
            return List.of();
        }
        return vm.instanceView().statuses();
    }

    /** The addresses come from the VM's primary NIC and its public IP, which are resources of their own. */
    static Map<String, String> connection(AzureVmWorkspaceProvider.Clients clients, AzureVmWorkspaceProvider.Ref ref,
                                          VirtualMachineInner vm, String sshUser, int sshPort) {
        String privateIp = null;
        String publicIp = null;
        List<NetworkInterfaceReference> nics = vm.networkProfile() == null || vm.networkProfile().networkInterfaces() == null
                ? List.of() : vm.networkProfile().networkInterfaces();
        Optional<NetworkInterfaceReference> primary = nics.stream()
                .filter(n -> n.primary() == null || n.primary()).findFirst();
        if (primary.isPresent()) {
            Matcher nicId = NETWORK_ID.matcher(primary.get().id());
            if (nicId.matches()) {
                NetworkInterfaceInner nic = ArmOperations.call("GET network interface", () -> clients.network().serviceClient()
                        .getNetworkInterfaces().getByResourceGroupWithResponseAsync(nicId.group(1), nicId.group(3), null))
                        .getValue();
                Optional<NetworkInterfaceIpConfigurationInner> ip = nic.ipConfigurations() == null ? Optional.empty()
                        : nic.ipConfigurations().stream().filter(c -> c.primary() == null || c.primary()).findFirst();
                privateIp = ip.map(NetworkInterfaceIpConfigurationInner::privateIpAddress).orElse(null);
                Matcher pipId = ip.map(NetworkInterfaceIpConfigurationInner::publicIpAddress)
                        .map(PublicIpAddressInner::id).map(NETWORK_ID::matcher).filter(Matcher::matches).orElse(null);
                if (pipId != null) {
                    publicIp = ArmOperations.call("GET public IP address", () -> clients.network().serviceClient()
                            .getPublicIpAddresses().getByResourceGroupWithResponseAsync(pipId.group(1), pipId.group(3), null))
                            .getValue().ipAddress();
                }
            }
        }
        Map<String, String> c = VmConnection.ssh(publicIp, privateIp, sshUser, sshPort);
        c.put("vm", ref.name());
        c.put("resourceGroup", ref.group());
        c.put("location", vm.location());
        return c;
    }

    static ResourceDescription description(AzureVmWorkspaceProvider.Clients clients, AzureVmWorkspaceProvider.Ref ref,
                                           VirtualMachineInner vm, String sshUser, int sshPort) {
        String power = powerState(vm);
        ResourceDescription.State state = switch (power) {
            case "running" -> ResourceDescription.State.RUNNING;
            case "starting" -> ResourceDescription.State.PROVISIONING;
            case "stopping", "stopped", "deallocating", "deallocated" -> ResourceDescription.State.STOPPED;
            default -> provisioningState(vm).startsWith("failed") ? ResourceDescription.State.FAILED
                    : provisioningState(vm).equals("creating") ? ResourceDescription.State.PROVISIONING
                    : ResourceDescription.State.UNKNOWN;
        };
        return new ResourceDescription(ref.id(), state, vm.tags() == null ? Map.of() : Map.copyOf(vm.tags()),
                state == ResourceDescription.State.RUNNING && vm.networkProfile() != null ? connection(clients, ref, vm, sshUser, sshPort)
                        : Map.of());
    }
}
