package dev.atelier.providers.azure;

import dev.atelier.providers.cloud.SpecRead;
import dev.atelier.providers.cloud.SpecReader;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The spec of an {@code azure-vm} template, read and checked (see docs/providers/azure-vm.md). */
record AzureVmSpec(String subscriptionId, String resourceGroup, String location, String zone, String vmSize,
                   String image, Integer diskGb, String diskType, String subnetId, String nsgId, boolean publicIp,
                   boolean spot, String sshUser, int sshPort, String sshPublicKey, String startupScript, Map<String, String> tags) {

    static final List<String> KEYS = List.of("subscriptionId", "resourceGroup", "location", "zone", "vmSize", "image",
            "diskGb", "diskType", "subnetId", "nsgId", "publicIp", "spot", "sshUser", "sshPort", "sshPublicKey", "startupScript",
            "tags");
    static final List<String> DISK_TYPES = List.of("StandardSSD_LRS", "Premium_LRS", "Standard_LRS", "StandardSSD_ZRS",
            "Premium_ZRS");
    static final String DEFAULT_SSH_USER = "atelier";
    static final int MAX_STARTUP_SCRIPT = 32 * 1024;
    /** Names Azure refuses as admin user of a Linux VM. */
    static final List<String> RESERVED_USERS = List.of("root", "admin", "administrator", "adm", "sys", "daemon",
            "bin", "guest", "user", "test", "sshd", "nobody");

    static final String GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    static final String RESOURCE_GROUP = "[-\\w._()]{0,89}[-\\w_()]";
    private static final Pattern SUBSCRIPTION = Pattern.compile(GUID);
    private static final Pattern GROUP = Pattern.compile(RESOURCE_GROUP);
    private static final Pattern VM_SIZE = Pattern.compile("(Standard|Basic)_[A-Za-z0-9_-]{1,40}");
    private static final Pattern URN = Pattern.compile("[A-Za-z0-9._-]{1,80}:[A-Za-z0-9._-]{1,80}:[A-Za-z0-9._-]{1,80}:[A-Za-z0-9._-]{1,80}");
    private static final Pattern IMAGE_ID = Pattern.compile("/subscriptions/" + GUID + "/resourceGroups/" + RESOURCE_GROUP
            + "/providers/Microsoft\\.Compute/(images/[-\\w.]{1,80}|galleries/[\\w.]{1,80}/images/[-\\w.]{1,80}"
            + "(/versions/[0-9.]{1,40}|/versions/latest)?)", Pattern.CASE_INSENSITIVE);
    private static final Pattern SUBNET = Pattern.compile("/subscriptions/" + GUID + "/resourceGroups/" + RESOURCE_GROUP
            + "/providers/Microsoft\\.Network/virtualNetworks/[-\\w.]{2,64}/subnets/[-\\w.]{1,80}", Pattern.CASE_INSENSITIVE);
    private static final Pattern NSG = Pattern.compile("/subscriptions/" + GUID + "/resourceGroups/" + RESOURCE_GROUP
            + "/providers/Microsoft\\.Network/networkSecurityGroups/[-\\w.]{1,80}", Pattern.CASE_INSENSITIVE);
    private static final Pattern TAG_KEY = Pattern.compile("[A-Za-z0-9 _.:=+@-]{1,512}");
    private static final Pattern TAG_VALUE = Pattern.compile("[^<>%&\\\\?/\\p{Cntrl}]{0,256}");

    static SpecRead<AzureVmSpec> read(Map<String, Object> raw, Collection<String> locations) {
        SpecReader r = new SpecReader(AzureVmWorkspaceProvider.NAME, raw, KEYS);
        String subscription = r.string("subscriptionId", true, SUBSCRIPTION, "a subscription id (a GUID)");
        String group = r.string("resourceGroup", true, GROUP, "the name of an existing resource group");
        String location = r.location("location", locations, "an Azure region such as westeurope", "Azure region",
                "atelier.providers.azure.extra-locations");
        String zone = r.oneOf("zone", List.of("1", "2", "3"), null);
        String vmSize = r.string("vmSize", true, VM_SIZE, "a VM size such as Standard_D4s_v5 or Standard_NC4as_T4_v3");
        String image = r.string("image", true, null, "a marketplace URN publisher:offer:sku:version or an image id");
        if (image != null && !URN.matcher(image).matches() && !IMAGE_ID.matcher(image).matches()) {
            r.problem("image '" + SpecReader.printable(image) + "' is invalid: expected a marketplace URN such as "
                    + "Canonical:ubuntu-24_04-lts:server:latest, or the id of an image or gallery image (version)");
            image = null;
        }
        Integer diskGb = r.integer("diskGb", 30, 4095);
        String diskType = r.oneOf("diskType", DISK_TYPES, "StandardSSD_LRS");
        String subnetId = r.string("subnetId", true, SUBNET,
                "a subnet id /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<name>");
        String nsgId = r.string("nsgId", false, NSG,
                "a network security group id /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/networkSecurityGroups/<name>");
        boolean publicIp = r.bool("publicIp", true);
        boolean spot = r.bool("spot", false);
        String sshUser = r.sshUser(DEFAULT_SSH_USER);
        int sshPort = r.sshPort();
        if (RESERVED_USERS.contains(sshUser)) {
            r.problem("sshUser '" + sshUser + "' is reserved by Azure; choose another name");
        }
        String sshPublicKey = r.sshPublicKey(true, "; Azure Linux VMs are created with key authentication only");
        String script = r.startupScript(MAX_STARTUP_SCRIPT);
        Map<String, String> tags = r.stringMap("tags", TAG_KEY, TAG_VALUE,
                "Azure tags: keys of 1-512 letters, digits, spaces and _.:=+@-, values of up to 256 characters without <>%&\\?/", 40);
        return r.read(new AzureVmSpec(subscription == null ? null : subscription.toLowerCase(), group, location,
                zone, vmSize, image, diskGb, diskType, subnetId, nsgId, publicIp, spot, sshUser, sshPort, sshPublicKey, script,
                tags));
    }

    boolean imageIsUrn() {
        return URN.matcher(image).matches();
    }
}
