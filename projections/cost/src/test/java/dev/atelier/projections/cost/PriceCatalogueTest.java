package dev.atelier.projections.cost;

import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.TemplateDefinition;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where prices come from: the template's own pricing, else the shipped table (extensible), else unknown. */
class PriceCatalogueTest {

    private final PriceCatalogue defaults = new PriceCatalogue(CostSettings.defaults());

    private static TemplateDefinition template(String provider, Map<String, Object> spec, Pricing pricing) {
        return new TemplateDefinition(provider, spec, List.of(), null, pricing);
    }

    @Test
    void theTemplatesOwnPricingWinsOverTheTable() {
        var price = defaults.resolve(template("aws-ec2", Map.of("instanceType", "m5.large", "diskGb", 73),
                new Pricing(new BigDecimal("0.50"), new BigDecimal("0.05"), "eur")));
        assertThat(price.currency()).isEqualTo("EUR");
        assertThat(price.runningPerHour()).isEqualByComparingTo("0.50");
        assertThat(price.stoppedPerHour()).isEqualByComparingTo("0.05");
        assertThat(price.runningNote()).isEqualTo("template pricing");
    }

    @Test
    void aPriceTheTemplatesPricingLeavesOutIsUnknownNotZero() {
        var price = defaults.resolve(template("local", Map.of(), new Pricing(new BigDecimal("0.10"), null, "EUR")));
        assertThat(price.stoppedPerHour()).isNull();
        assertThat(price.stoppedNote()).contains("no stoppedPerHour");
    }

    @Test
    void awsGcpAndAzureMachineTypesComeFromTheTableWithTheirDisk() {
        // m5.large 0.096 USD/h + 73 GB gp3 x 0.08 USD/GB-month / 730 h = 0.008 USD/h
        var aws = defaults.resolve(template("aws-ec2", Map.of("instanceType", "m5.large", "diskGb", 73), null));
        assertThat(aws.currency()).isEqualTo("USD");
        assertThat(aws.runningPerHour()).isEqualByComparingTo("0.104");
        assertThat(aws.stoppedPerHour()).isEqualByComparingTo("0.008");
        assertThat(aws.runningNote()).contains("m5.large 0.096 USD/h", "aws.amazon.com/ec2/pricing");

        // e2-standard-2 0.067006 USD/h + 73 GB x 0.10 / 730 = 0.01
        var gcp = defaults.resolve(template("gcp-compute", Map.of("machineType", "e2-standard-2", "diskGb", "73"), null));
        assertThat(gcp.runningPerHour()).isEqualByComparingTo("0.077006");
        assertThat(gcp.stoppedPerHour()).isEqualByComparingTo("0.01");

        var azure = defaults.resolve(template("azure-vm", Map.of("vmSize", "Standard_D2s_v5"), null));
        assertThat(azure.runningPerHour()).isEqualByComparingTo("0.096");
        assertThat(azure.stoppedPerHour()).isNull();
        assertThat(azure.stoppedNote()).contains("no diskGb");
        assertThat(azure.runningNote()).contains("disk not included");
    }

    @Test
    void anUnknownMachineTypeOrASpotInstanceIsUnknown() {
        var unknown = defaults.resolve(template("aws-ec2", Map.of("instanceType", "x9.mega", "diskGb", 10), null));
        assertThat(unknown.runningPerHour()).isNull();
        assertThat(unknown.stoppedPerHour()).isNull();
        assertThat(unknown.runningNote()).contains("no price for aws-ec2 machine type 'x9.mega'",
                "atelier.costs.prices");
        var spot = defaults.resolve(template("aws-ec2", Map.of("instanceType", "m5.large", "spot", true), null));
        assertThat(spot.runningPerHour()).isNull();
        assertThat(spot.runningNote()).contains("spot");
        var local = defaults.resolve(template("local", Map.of("startupScript", "sleep 1"), null));
        assertThat(local.runningPerHour()).isNull();
        assertThat(local.runningNote()).contains("names no machine type");
    }

    @Test
    void configurationAddsAndOverridesEntries() {
        var catalogue = new PriceCatalogue(new CostSettings(Duration.ofDays(1), Duration.ofMinutes(1),
                Duration.ofDays(28),
                List.of(new CostSettings.MachinePrice("aws-ec2", "m5.large", new BigDecimal("0.090"), "usd", "our EDP rate"),
                        new CostSettings.MachinePrice("kubernetes", "gpu-node", new BigDecimal("2.5"), "EUR", null)),
                List.of(new CostSettings.DiskPrice("kubernetes", new BigDecimal("0.146"), "EUR", null))));
        var aws = catalogue.resolve(template("aws-ec2", Map.of("instanceType", "m5.large", "diskGb", 73), null));
        assertThat(aws.runningPerHour()).isEqualByComparingTo("0.098");
        assertThat(aws.runningNote()).contains("our EDP rate");
        var k8s = catalogue.resolve(template("kubernetes", Map.of("machineType", "gpu-node", "diskGb", 50), null));
        assertThat(k8s.currency()).isEqualTo("EUR");
        assertThat(k8s.runningPerHour()).isEqualByComparingTo("2.51"); // 50 x 0.146 / 730 = 0.01
        assertThat(catalogue.table()).anySatisfy(e -> assertThat(e.machineType()).isEqualTo("gpu-node"));
    }

    @Test
    void theShippedTableNamesItsSourceAndDateForEveryEntry() {
        assertThat(defaults.table()).hasSizeGreaterThan(60).allSatisfy(e -> {
            assertThat(e.source()).startsWith("https://");
            assertThat(e.asOf()).isNotBlank();
            assertThat(e.price()).isPositive();
        });
        assertThat(defaults.table()).extracting(PriceCatalogue.TableEntry::provider)
                .contains("aws-ec2", "gcp-compute", "azure-vm");
    }

    @Test
    void aBadConfiguredEntryStopsTheEngineWithAClearMessage() {
        assertThatThrownBy(() -> new PriceCatalogue(new CostSettings(Duration.ofDays(1), Duration.ofMinutes(1),
                Duration.ofDays(28), List.of(new CostSettings.MachinePrice("aws-ec2", "m5.large",
                new BigDecimal("0.1"), "dollars", null)), List.of())))
                .hasMessageContaining("currency 'dollars' is not an ISO 4217 code");
    }
}
