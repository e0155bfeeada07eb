package dev.atelier.projections.cost;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.TemplateDefinition;
import org.springframework.core.io.ClassPathResource;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Currency;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a template version's prices come from: its own {@code pricing} wins; otherwise the price table (shipped
 * CSV files in {@code costs/}, extended or overridden by {@code atelier.costs.prices} and
 * {@code atelier.costs.disk-prices}) by the machine type of the spec ({@code instanceType}, {@code machineType} or
 * {@code vmSize}) and its {@code diskGb}. A price that neither states is unknown (null), never zero.
 */
@Component
public class PriceCatalogue {

    /** Hours in a billing month, as the clouds' price pages count them. */
    public static final BigDecimal HOURS_PER_MONTH = BigDecimal.valueOf(730);
    static final List<String> MACHINE_TYPE_KEYS = List.of("instanceType", "machineType", "vmSize");
    static final String DISK_KEY = "diskGb";

    private final Map<String, TableEntry> machines = new LinkedHashMap<>();
    private final Map<String, TableEntry> disks = new LinkedHashMap<>();

    public PriceCatalogue(CostSettings settings) {
        load("costs/default-prices.csv", "machineType", "perHour", machines);
        load("costs/default-disk-prices.csv", "diskType", "perGbMonth", disks);
        for (CostSettings.MachinePrice p : settings.prices()) {
            require(p.provider(), p.machineType(), p.perHour(), p.currency(), "atelier.costs.prices");
            machines.put(key(p.provider(), p.machineType()), new TableEntry(p.provider(), p.machineType(), null,
                    p.perHour(), p.currency().toUpperCase(Locale.ROOT),
                    p.source() == null ? "configuration (atelier.costs.prices)" : p.source(), null));
        }
        for (CostSettings.DiskPrice p : settings.diskPrices()) {
            require(p.provider(), "disk", p.perGbMonth(), p.currency(), "atelier.costs.disk-prices");
            disks.put(p.provider(), new TableEntry(p.provider(), null, null, p.perGbMonth(),
                    p.currency().toUpperCase(Locale.ROOT),
                    p.source() == null ? "configuration (atelier.costs.disk-prices)" : p.source(), null));
        }
    }

    /** Prices of a template version: what cost reports multiply the time in each state with. */
    public ResolvedPrice resolve(TemplateDefinition definition) {
        String machineType = machineType(definition.spec());
        Pricing pricing = definition.pricing();
        if (pricing != null) {
            String currency = pricing.currency() == null ? null : pricing.currency().toUpperCase(Locale.ROOT);
            return new ResolvedPrice(definition.provider(), machineType, currency, pricing.runningPerHour(),
                    pricing.stoppedPerHour(),
                    pricing.runningPerHour() != null ? "template pricing"
                            : "unknown: the template's pricing has no runningPerHour",
                    pricing.stoppedPerHour() != null ? "template pricing"
                            : "unknown: the template's pricing has no stoppedPerHour");
        }
        if (machineType == null) {
            String why = "unknown: the template has no pricing and its spec names no machine type ("
                    + String.join(", ", MACHINE_TYPE_KEYS) + "); set the template's pricing";
            return new ResolvedPrice(definition.provider(), null, null, null, null, why, why);
        }
        if (Boolean.TRUE.equals(definition.spec().get("spot")) || "true".equals(String.valueOf(definition.spec().get("spot")))) {
            String why = "unknown: spot prices vary; set the template's pricing";
            return new ResolvedPrice(definition.provider(), machineType, null, null, null, why, why);
        }
        TableEntry machine = machines.get(key(definition.provider(), machineType));
        if (machine == null) {
            String why = "unknown: no price for " + definition.provider() + " machine type '" + machineType
                    + "' in the price table; set the template's pricing or add it to atelier.costs.prices";
            return new ResolvedPrice(definition.provider(), machineType, null, null, null, why, why);
        }
        BigDecimal diskGb = diskGb(definition.spec());
        TableEntry disk = disks.get(definition.provider());
        if (diskGb == null || disk == null || !disk.currency().equals(machine.currency())) {
            String why = diskGb == null ? "unknown: the spec has no diskGb, so the disk's price is not known"
                    : "unknown: no disk price for provider " + definition.provider() + " in "
                    + machine.currency() + "; add it to atelier.costs.disk-prices";
            return new ResolvedPrice(definition.provider(), machineType, machine.currency(), machine.price(), null,
                    "price table: " + machineType + " " + machine.price().toPlainString() + " " + machine.currency()
                            + "/h (" + machine.source() + "); disk not included: " + why.substring(9),
                    why);
        }
        BigDecimal diskPerHour = disk.price().multiply(diskGb).divide(HOURS_PER_MONTH, MathContext.DECIMAL64);
        return new ResolvedPrice(definition.provider(), machineType, machine.currency(),
                machine.price().add(diskPerHour), diskPerHour,
                "price table: " + machineType + " " + machine.price().toPlainString() + " " + machine.currency()
                        + "/h (" + machine.source() + ") + disk " + diskGb.toPlainString() + " GB x "
                        + disk.price().toPlainString() + "/GB-month / 730 h (" + disk.source() + ")",
                "price table: disk " + diskGb.toPlainString() + " GB x " + disk.price().toPlainString() + " "
                        + disk.currency() + "/GB-month / 730 h (" + disk.source() + ")");
    }

    /** The table in effect (shipped entries with configured ones applied), machine prices first. */
    public List<TableEntry> table() {
        List<TableEntry> all = new ArrayList<>();
        machines.values().stream().sorted(Comparator.comparing(TableEntry::provider)).forEach(all::add);
        disks.values().stream().sorted(Comparator.comparing(TableEntry::provider))
                .map(d -> new TableEntry(d.provider(), d.machineType() == null ? "disk" : "disk: " + d.machineType(),
                        d.region(), d.price(), d.currency(), d.source(), d.asOf()))
                .forEach(all::add);
        return all;
    }

    static String machineType(Map<String, Object> spec) {
        for (String key : MACHINE_TYPE_KEYS) {
            Object value = spec.get(key);
            if (value != null && !value.toString().isBlank()) {
                return value.toString().trim();
            }
        }
        return null;
    }

    private static BigDecimal diskGb(Map<String, Object> spec) {
        Object value = spec.get(DISK_KEY);
        if (value == null) {
            return null;
        }
        try {
            BigDecimal gb = new BigDecimal(value.toString().trim());
            return gb.signum() > 0 ? gb : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String key(String provider, String machineType) {
        return provider + "|" + machineType;
    }

    private static void require(String provider, String type, BigDecimal price, String currency, String property) {
        if (provider == null || provider.isBlank() || type == null || type.isBlank() || price == null
                || price.signum() < 0 || currency == null) {
            throw new IllegalArgumentException(property + " entries need provider, "
                    + (property.endsWith("disk-prices") ? "per-gb-month" : "machine-type, per-hour")
                    + " (not negative) and currency");
        }
        try {
            Currency.getInstance(currency.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(property + ": currency '" + currency + "' is not an ISO 4217 code");
        }
    }

    private static void load(String resource, String typeColumn, String priceColumn, Map<String, TableEntry> into) {
        CsvMapper csv = new CsvMapper();
        CsvSchema schema = CsvSchema.emptySchema().withHeader().withComments();
        try (InputStream in = new ClassPathResource(resource).getInputStream();
             MappingIterator<Map<String, String>> rows = csv.readerForMapOf(String.class).with(schema)
                     .with(CsvParser.Feature.TRIM_SPACES).readValues(in)) {
            while (rows.hasNext()) {
                Map<String, String> row = rows.next();
                String provider = row.get("provider");
                String type = row.get(typeColumn);
                TableEntry entry = new TableEntry(provider, type, row.get("region"), new BigDecimal(row.get(priceColumn)),
                        row.get("currency"), row.get("source"), row.get("asOf"));
                into.put(typeColumn.equals("diskType") ? provider : key(provider, type), entry);
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("price table " + resource + " is not readable: " + e.getMessage(), e);
        }
    }

    /**
     * Prices of one template version; a null amount is unknown and its note says why. Both amounts are in
     * {@code currency}.
     */
    public record ResolvedPrice(String provider, String machineType, String currency, BigDecimal runningPerHour,
                                BigDecimal stoppedPerHour, String runningNote, String stoppedNote) {
    }

    /** One entry of the price table: per hour for machines, per GB and month for disks. */
    public record TableEntry(String provider, String machineType, String region, BigDecimal price, String currency,
                             String source, String asOf) {
    }
}
