package dev.atelier.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Everything one run measured: written as JSON and as a Markdown section of docs/benchmarks.md. */
public final class Report {

    public final Map<String, Object> meta = new LinkedHashMap<>();
    public final Map<String, Map<String, Object>> phases = new LinkedHashMap<>();
    public final List<Target> targets = new ArrayList<>();
    public final Map<String, Map<String, Object>> memory = new LinkedHashMap<>();
    public final Map<String, List<String>> lines = new LinkedHashMap<>();
    public final Map<String, Object> profiles = new LinkedHashMap<>();

    /** One target of the issue: its goal, what was measured, and whether it was met ({@code null}: not measured). */
    public record Target(String id, String title, String goal, Double measured, String unit, Boolean met, String note) {
    }

    public Map<String, Object> phase(String name) {
        return phases.computeIfAbsent(name, k -> new LinkedHashMap<>());
    }

    /** A human-readable result line for the Markdown table of a phase. */
    void line(String phase, String text) {
        lines.computeIfAbsent(phase, k -> new ArrayList<>()).add(text);
    }

    void atLeast(String id, String title, String goal, double threshold, double measured, String unit, String note) {
        targets.add(new Target(id, title, goal, round(measured), unit, measured >= threshold, note));
    }

    void atMost(String id, String title, String goal, double threshold, double measured, String unit, String note) {
        targets.add(new Target(id, title, goal, round(measured), unit, measured <= threshold, note));
    }

    static double round(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return v;
        }
        double scale = Math.abs(v) >= 100 ? 10 : Math.abs(v) >= 1 ? 100 : 10000;
        return Math.round(v * scale) / scale;
    }

    void writeJson(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("meta", meta);
        root.put("targets", targets);
        root.put("phases", phases);
        root.put("memory", memory);
        root.put("profiles", profiles);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
    }

    void appendMarkdown(Path file) throws IOException {
        Files.writeString(file, markdown(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @SuppressWarnings("unchecked")
    String markdown() {
        StringBuilder md = new StringBuilder("\n");
        md.append("### ").append(meta.get("date")).append(" · ").append(meta.get("mode")).append(" run · commit ")
                .append(meta.get("commit")).append("\n\n");
        Map<String, Object> machine = (Map<String, Object>) meta.get("machine");
        md.append("- Machine: ").append(machine.get("cores")).append(" cores, ").append(machine.get("cpuModel"))
                .append(", ").append(machine.get("memoryGiB")).append(" GiB RAM; ").append(machine.get("java"))
                .append(", heap max ").append(machine.get("maxHeapMiB")).append(" MiB\n");
        md.append("- Load average (1/5/15 min) at start ").append(load(meta.get("loadAtStart")))
                .append(", at end ").append(load(meta.get("loadAtEnd")))
                .append(" — other builds were sharing the machine when the load is above 0\n");
        md.append("- Database: ").append(meta.get("database")).append("\n");
        md.append("- Parameters: ").append(params((Map<String, Object>) meta.get("parameters"))).append("\n");
        md.append("- Run time: ").append(meta.get("durationSeconds")).append(" s; raw results: `target/bench/results.json`\n\n");
        md.append("| Target | Goal | Measured | Met |\n|---|---|---|---|\n");
        for (Target t : targets) {
            String measured = t.measured() == null ? "—" : fmt(t.measured()) + (t.unit() == null ? "" : " " + t.unit());
            String met = t.met() == null ? "not run" : t.met() ? "**yes**" : "**no**";
            md.append("| ").append(t.title()).append(" | ").append(t.goal()).append(" | ").append(measured)
                    .append(t.note() == null || t.note().isBlank() ? "" : " (" + t.note() + ")").append(" | ")
                    .append(met).append(" |\n");
        }
        md.append("\n| Phase | Results |\n|---|---|\n");
        lines.forEach((phase, texts) -> md.append("| ").append(phase).append(" | ")
                .append(String.join("<br>", texts)).append(" |\n"));
        if (!profiles.isEmpty()) {
            md.append("\n| CPU profile (JFR, engine threads) | samples | by library of the top frame | engine code on the stack |\n|---|---|---|---|\n");
            profiles.forEach((phase, value) -> {
                Map<String, Object> p = (Map<String, Object>) value;
                md.append("| ").append(phase).append(" | ").append(p.get("engineSamples")).append(" | ")
                        .append(top((Map<String, Object>) p.get("engineSamplesByArea"), 5)).append(" | ")
                        .append(top((Map<String, Object>) p.get("engineCodeOnTheStack"), 4)).append(" |\n");
            });
        }
        md.append("\n| Memory after | RSS MiB | heap live MiB (after GC) | heap peak MiB (during) | heap committed MiB | threads |\n|---|---|---|---|---|---|\n");
        memory.forEach((phase, m) -> md.append("| ").append(phase).append(" | ").append(m.get("rssMiB")).append(" | ")
                .append(m.get("heapUsedMiB")).append(" | ").append(m.get("heapPeakMiB")).append(" | ")
                .append(m.get("heapCommittedMiB")).append(" | ").append(m.get("threads")).append(" |\n"));
        return md.toString();
    }

    private static String top(Map<String, Object> counts, int n) {
        StringBuilder sb = new StringBuilder();
        counts.entrySet().stream().limit(n).forEach(e -> sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey())
                .append(' ').append(String.valueOf(e.getValue()).replaceAll(".*\\((\\d+%)\\).*", "$1")));
        return sb.toString().replace("|", "/");
    }

    private static String load(Object value) {
        if (value instanceof List<?> l && l.size() == 3) {
            return l.get(0) + " / " + l.get(1) + " / " + l.get(2);
        }
        return "unknown";
    }

    private static String params(Map<String, Object> p) {
        StringBuilder sb = new StringBuilder();
        p.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v));
        return sb.toString();
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%,.0f", v)
                : Math.abs(v) >= 1 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.3f", v);
    }
}
