package dev.atelier.providers.gcp;

import dev.atelier.providers.cloud.SpecRead;
import dev.atelier.providers.cloud.SpecReader;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** The spec of a {@code gcp-compute} template, read and checked (see docs/providers/gcp-compute.md). */
record GceSpec(String project, String zone, String machineType, String image, Integer diskGb, String diskType,
               String network, String subnetwork, List<String> networkTags, boolean publicIp,
               List<Accelerator> accelerators, boolean spot, String sshUser, int sshPort, String sshPublicKey,
               String startupScript, Map<String, String> labels) {

    record Accelerator(String type, int count) {
    }

    static final List<String> KEYS = List.of("project", "zone", "machineType", "image", "diskGb", "diskType",
            "network", "subnetwork", "networkTags", "publicIp", "accelerators", "spot", "sshUser", "sshPort", "sshPublicKey",
            "startupScript", "labels");
    static final List<String> DISK_TYPES = List.of("pd-balanced", "pd-ssd", "pd-standard",
            "hyperdisk-balanced");
    static final String DEFAULT_SSH_USER = "atelier";
    static final int MAX_STARTUP_SCRIPT = 64 * 1024;

    private static final String NAME = "[a-z]([-a-z0-9]{0,61}[a-z0-9])?";
    private static final String PROJECT_ID = "[a-z][-a-z0-9]{4,28}[a-z0-9]";
    private static final Pattern PROJECT = Pattern.compile(PROJECT_ID);
    private static final Pattern MACHINE_TYPE = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+){1,4}");
    private static final Pattern IMAGE = Pattern.compile("(https://www\\.googleapis\\.com/compute/v1/)?projects/"
            + PROJECT_ID + "/global/images/(family/)?" + NAME);
    private static final Pattern NETWORK = Pattern.compile(NAME + "|projects/" + PROJECT_ID + "/global/networks/" + NAME);
    private static final Pattern SUBNETWORK = Pattern.compile(NAME + "|projects/" + PROJECT_ID + "/regions/[a-z0-9-]+/subnetworks/" + NAME);
    private static final Pattern TAG = Pattern.compile(NAME);
    private static final Pattern ACCELERATOR = Pattern.compile("nvidia-[a-z0-9-]{2,40}|ct[0-9][a-z0-9-]{0,30}");
    private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
    private static final Set<Integer> ACCELERATOR_COUNTS = Set.of(1, 2, 4, 8, 16);

    static SpecRead<GceSpec> read(Map<String, Object> raw, Collection<String> zones, String defaultProject) {
        SpecReader r = new SpecReader(GceWorkspaceProvider.NAME, raw, KEYS);
        String project = r.string("project", defaultProject == null, PROJECT,
                "a project id such as my-workspaces-prod" + (defaultProject == null
                        ? " (or set atelier.providers.gcp.default-project)" : ""));
        if (project == null && !r.has("project")) {
            project = defaultProject;
        }
        String zone = r.string("zone", true, null, "a zone such as europe-west4-a");
        if (zone != null && !zones.contains(zone)) {
            r.problem(unknownZone(zone, zones));
            zone = null;
        }
        String machineType = r.string("machineType", true, MACHINE_TYPE,
                "a machine type such as n2-standard-8, g2-standard-8 or custom-8-32768");
        String image = r.string("image", true, IMAGE, "an image such as projects/ubuntu-os-cloud/global/images/family/"
                + "ubuntu-2404-lts-amd64 (projects/<project>/global/images/[family/]<name>)");
        Integer diskGb = r.integer("diskGb", 10, 65536);
        String diskType = r.oneOf("diskType", DISK_TYPES, "pd-balanced");
        String network = r.string("network", false, NETWORK, "a VPC network name or projects/<p>/global/networks/<name>");
        String subnetwork = r.string("subnetwork", false, SUBNETWORK,
                "a subnetwork name or projects/<p>/regions/<region>/subnetworks/<name>");
        List<String> tags = r.strings("networkTags", TAG, "network tags (firewall rule targets) such as allow-ssh", 64);
        boolean publicIp = r.bool("publicIp", true);
        List<Accelerator> accelerators = new ArrayList<>();
        List<Map<?, ?>> entries = r.objects("accelerators", 4);
        for (Map<?, ?> entry : entries) {
            Object type = entry.get("type");
            Long count = entry.get("count") == null ? 1L : SpecReader.wholeNumber(entry.get("count"));
            if (!new TreeSet<>(List.of("type", "count")).containsAll(entry.keySet().stream().map(String::valueOf).toList())) {
                r.problem("accelerators entries have the keys type and count, found " + entry.keySet());
            } else if (!(type instanceof String t) || !ACCELERATOR.matcher(t).matches()) {
                r.problem("accelerators type '" + SpecReader.printable(String.valueOf(type))
                        + "' is invalid: expected a GPU type such as nvidia-l4, nvidia-tesla-t4 or nvidia-a100-80gb");
            } else if (count == null || !ACCELERATOR_COUNTS.contains(count.intValue())) {
                r.problem("accelerators count of " + t + " must be 1, 2, 4, 8 or 16");
            } else {
                accelerators.add(new Accelerator(t, count.intValue()));
            }
        }
        boolean spot = r.bool("spot", false);
        String sshUser = r.sshUser(DEFAULT_SSH_USER);
        int sshPort = r.sshPort();
        String sshPublicKey = r.sshPublicKey(false, null);
        String script = r.startupScript(MAX_STARTUP_SCRIPT);
        Map<String, String> labels = r.stringMap("labels", LABEL_KEY, LABEL_VALUE,
                "GCP labels: keys [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}", 60);
        return r.read(new GceSpec(project, zone, machineType, image, diskGb, diskType,
                network == null ? "default" : network, subnetwork, tags, publicIp, accelerators, spot, sshUser,
                sshPort, sshPublicKey, script, labels));
    }

    /** Machine families with GPUs built in (A2, A3, A4, G2, G4) cannot live-migrate either. */
    boolean hasGpus() {
        return !accelerators.isEmpty() || machineType.matches("(a2|a3|a4|g2|g4)-.*");
    }

    String region() {
        return GcpZones.region(zone);
    }

    private static String unknownZone(String zone, Collection<String> zones) {
        String region = zone.contains("-") ? zone.substring(0, zone.lastIndexOf('-')) : zone;
        List<String> sameRegion = zones.stream().filter(z -> z.startsWith(region + "-")).toList();
        if (!sameRegion.isEmpty()) {
            return "zone '" + SpecReader.printable(zone) + "' is not a known zone of " + region + " (known: "
                    + String.join(", ", sameRegion) + ")";
        }
        TreeSet<String> regions = new TreeSet<>();
        zones.forEach(z -> regions.add(GcpZones.region(z)));
        return "zone '" + SpecReader.printable(zone) + "' is not a known Compute Engine zone (known regions: "
                + String.join(", ", regions) + "; operators can add zones with atelier.providers.gcp.extra-zones)";
    }
}
