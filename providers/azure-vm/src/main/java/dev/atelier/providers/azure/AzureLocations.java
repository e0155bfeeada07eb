package dev.atelier.providers.azure;

import java.util.List;

/** Azure public-cloud regions (location names) known to this release ({@code extra-locations} adds more). */
final class AzureLocations {

    static final List<String> KNOWN = List.of(
            "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus", "westus", "westus2",
            "westus3", "canadacentral", "canadaeast", "brazilsouth", "mexicocentral", "chilecentral", "northeurope",
            "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral", "switzerlandnorth",
            "norwayeast", "swedencentral", "polandcentral", "italynorth", "spaincentral", "austriaeast",
            "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth", "centralindia",
            "southindia", "westindia", "australiaeast", "australiasoutheast", "australiacentral",
            "newzealandnorth", "indonesiacentral", "malaysiawest", "uaenorth", "qatarcentral", "israelcentral",
            "southafricanorth");

    private AzureLocations() {
    }
}
