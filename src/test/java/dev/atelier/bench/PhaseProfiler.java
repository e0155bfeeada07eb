package dev.atelier.bench;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JDK Flight Recorder CPU profile of one phase (execution samples every 10 ms), kept as {@code <phase>.jfr} and
 * summarised: samples of the engine's threads by the code they were in (library of the top frame), the hottest
 * methods, and the engine's own methods (first {@code dev.atelier} frame) that those samples come from.
 */
final class PhaseProfiler implements AutoCloseable {

    private final Recording recording = new Recording();
    private final Path file;

    PhaseProfiler(Path dir, String phase) throws IOException {
        Files.createDirectories(dir);
        this.file = dir.resolve(phase + ".jfr");
        recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
        recording.setToDisk(true);
        recording.start();
    }

    Map<String, Object> stopAndSummarize() throws IOException {
        recording.stop();
        recording.dump(file);
        Map<String, Long> byArea = new HashMap<>();
        Map<String, Long> topMethods = new HashMap<>();
        Map<String, Long> engineMethods = new HashMap<>();
        long engine = 0;
        long clients = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                continue;
            }
            var thread = e.getThread("sampledThread");
            String threadName = thread == null ? "" : thread.getJavaName();
            if (threadName != null && Machine.isClientThread(threadName)) {
                clients++;
                continue;
            }
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
                continue;
            }
            engine++;
            List<RecordedFrame> frames = stack.getFrames();
            String top = method(frames.get(0));
            topMethods.merge(top, 1L, Long::sum);
            byArea.merge(area(frames.get(0).getMethod().getType().getName()), 1L, Long::sum);
            for (RecordedFrame f : frames) {
                String type = f.getMethod().getType().getName();
                if (type.startsWith("dev.atelier.") && !type.startsWith("dev.atelier.bench.")) {
                    engineMethods.merge(method(f), 1L, Long::sum);
                    break;
                }
            }
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("file", file.toString());
        summary.put("engineSamples", engine);
        summary.put("clientSamples", clients);
        summary.put("engineSamplesByArea", top(byArea, 12, engine));
        summary.put("hottestMethods", top(topMethods, 15, engine));
        summary.put("engineCodeOnTheStack", top(engineMethods, 12, engine));
        return summary;
    }

    static String area(String type) {
        String[][] areas = {{"org.postgresql.", "PostgreSQL JDBC driver"}, {"com.zaxxer.hikari.", "HikariCP"},
                {"com.fasterxml.jackson.", "Jackson (JSON)"}, {"io.netty.", "Netty"}, {"reactor.", "Reactor"},
                {"org.axonframework.", "Axon Framework"}, {"org.springframework.security.", "Spring Security"},
                {"org.springframework.", "Spring"}, {"dev.atelier.", "Atelier"}, {"io.micrometer.", "Micrometer"},
                {"com.github.kagkarlsson.", "db-scheduler"}, {"java.util.regex.", "JDK regex"},
                {"sun.nio.", "JDK NIO"}, {"java.", "JDK"}, {"jdk.", "JDK"}, {"sun.", "JDK"}};
        for (String[] a : areas) {
            if (type.startsWith(a[0])) {
                return a[1];
            }
        }
        return "other";
    }

    private static String method(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + " (" + area(type) + ")";
    }

    private static Map<String, String> top(Map<String, Long> counts, int n, long total) {
        Map<String, String> result = new LinkedHashMap<>();
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n)
                .forEach(e -> result.put(e.getKey(), e.getValue() + " (" + Math.round(100.0 * e.getValue() / Math.max(1, total)) + "%)"));
        return result;
    }

    @Override
    public void close() {
        recording.close();
    }
}
