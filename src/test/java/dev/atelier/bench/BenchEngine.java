package dev.atelier.bench;

import dev.atelier.AtelierApplication;
import dev.atelier.provider.WorkspaceProvider;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventProcessor;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The real engine, started in this JVM as {@code java -jar atelier.jar} would start it (its own HTTP server on a
 * free port, production defaults), on the benchmark's database, with the {@link NullProvider} registered as its
 * only provider.
 */
final class BenchEngine implements AutoCloseable {

    final ConfigurableApplicationContext context;
    final int port;
    final String adminToken;
    final NullProvider provider;

    private BenchEngine(ConfigurableApplicationContext context, String adminToken, NullProvider provider) {
        this.context = context;
        this.adminToken = adminToken;
        this.provider = provider;
        this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    static BenchEngine start(BenchDatabase db, Path dataDir) {
        System.setProperty("disable-axoniq-console-message", "true");
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String token = "atl_bench-" + HexFormat.of().formatHex(secret);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("atelier.db.url", db.url());
        p.put("atelier.db.user", db.user());
        if (db.password() != null) {
            p.put("atelier.db.password", db.password());
        }
        p.put("atelier.data-dir", dataDir.toString());
        p.put("atelier.admin-token", token);
        p.put("atelier.providers.local.enabled", "false");
        p.put("atelier.ssh.gateway.port", "0"); // the benchmark measures the engine, not the SSH gateway
        p.put("server.port", "0");
        p.put("spring.jmx.enabled", "false");
        p.put("logging.level.root", "WARN");
        p.put("server.shutdown", "immediate");
        // -Dbench.engine.<property>=<value> passes any engine property through (for experiments; reported)
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("bench.engine."))
                .forEach(k -> p.put(k.substring("bench.engine.".length()), System.getProperty(k)));
        NullProvider provider = new NullProvider();
        ApplicationContextInitializer<GenericApplicationContext> registerNullProvider =
                context -> context.registerBean("benchNullProvider", WorkspaceProvider.class, () -> provider);
        // As command-line arguments: default properties would lose to application.yml (server.port: ${SERVER_PORT:8080})
        ConfigurableApplicationContext context = new SpringApplicationBuilder(AtelierApplication.class)
                .initializers(registerNullProvider)
                .run(p.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
        return new BenchEngine(context, token, provider);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    JdbcTemplate jdbc() {
        return context.getBean(JdbcTemplate.class);
    }

    /** The tracking (pooled) processors: projections other than templates, and the lifecycle saga. */
    Map<String, StreamingEventProcessor> streamingProcessors() {
        Map<String, StreamingEventProcessor> result = new LinkedHashMap<>();
        for (Map.Entry<String, EventProcessor> e : bean(EventProcessingConfiguration.class).eventProcessors().entrySet()) {
            if (e.getValue() instanceof StreamingEventProcessor streaming) {
                result.put(e.getKey(), streaming);
            }
        }
        return result;
    }

    StreamingEventProcessor processor(String name) {
        StreamingEventProcessor p = streamingProcessors().get(name);
        if (p == null) {
            throw new IllegalStateException("no streaming processor '" + name + "' (have " + streamingProcessors().keySet() + ")");
        }
        return p;
    }

    long headIndex() {
        Long head = jdbc().queryForObject("SELECT max(globalindex) FROM domainevententry", Long.class);
        return head == null ? -1 : head;
    }

    /** The lowest position any segment of the processor has reached, or -1 before it has one. */
    static long position(StreamingEventProcessor processor) {
        Map<Integer, EventTrackerStatus> status = processor.processingStatus();
        if (status.isEmpty()) {
            return -1;
        }
        long min = Long.MAX_VALUE;
        for (EventTrackerStatus s : status.values()) {
            OptionalLong p = s.getCurrentPosition();
            min = Math.min(min, p.isPresent() ? p.getAsLong() : -1);
        }
        return min;
    }

    /** Waits until every running streaming processor has handled everything up to the current head. */
    Duration awaitProcessorsCaughtUp(Duration timeout) {
        long head = headIndex();
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        List<String> behind = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            behind.clear();
            streamingProcessors().forEach((name, p) -> {
                if (p.isRunning() && position(p) < head) {
                    behind.add(name);
                }
            });
            if (behind.isEmpty()) {
                return Duration.ofNanos(System.nanoTime() - start);
            }
            sleep(50);
        }
        throw new IllegalStateException("processors " + behind + " did not reach event " + head + " within " + timeout);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        context.close();
    }
}
