package dev.atelier.providers.gcp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Compute Engine zones known to this release, by region ({@code extra-zones} adds more). */
final class GcpZones {

    private static final Map<String, String> REGIONS = new TreeMap<>(Map.ofEntries(
            Map.entry("us-central1", "abcf"), Map.entry("us-east1", "bcd"), Map.entry("us-east4", "abc"),
            Map.entry("us-east5", "abc"), Map.entry("us-south1", "abc"), Map.entry("us-west1", "abc"),
            Map.entry("us-west2", "abc"), Map.entry("us-west3", "abc"), Map.entry("us-west4", "abc"),
            Map.entry("northamerica-northeast1", "abc"), Map.entry("northamerica-northeast2", "abc"),
            Map.entry("northamerica-south1", "abc"), Map.entry("southamerica-east1", "abc"),
            Map.entry("southamerica-west1", "abc"), Map.entry("europe-west1", "bcd"), Map.entry("europe-west2", "abc"),
            Map.entry("europe-west3", "abc"), Map.entry("europe-west4", "abc"), Map.entry("europe-west6", "abc"),
            Map.entry("europe-west8", "abc"), Map.entry("europe-west9", "abc"), Map.entry("europe-west10", "abc"),
            Map.entry("europe-west12", "abc"), Map.entry("europe-north1", "abc"), Map.entry("europe-north2", "abc"),
            Map.entry("europe-central2", "abc"), Map.entry("europe-southwest1", "abc"), Map.entry("asia-east1", "abc"),
            Map.entry("asia-east2", "abc"), Map.entry("asia-northeast1", "abc"), Map.entry("asia-northeast2", "abc"),
            Map.entry("asia-northeast3", "abc"), Map.entry("asia-south1", "abc"), Map.entry("asia-south2", "abc"),
            Map.entry("asia-southeast1", "abc"), Map.entry("asia-southeast2", "abc"),
            Map.entry("australia-southeast1", "abc"), Map.entry("australia-southeast2", "abc"),
            Map.entry("me-west1", "abc"), Map.entry("me-central1", "abc"), Map.entry("me-central2", "abc"),
            Map.entry("africa-south1", "abc")));

    static final List<String> KNOWN;

    static {
        List<String> zones = new ArrayList<>();
        REGIONS.forEach((region, letters) -> letters.chars().forEach(c -> zones.add(region + "-" + (char) c)));
        KNOWN = List.copyOf(zones);
    }

    private GcpZones() {
    }

    static String region(String zone) {
        return zone.substring(0, zone.lastIndexOf('-'));
    }
}
