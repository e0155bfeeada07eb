package dev.atelier.observability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.support.EngineIntegrationTest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.junit.jupiter.api.Test;
import ch.qos.logback.classic.spi.ILoggingEvent;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.TestPropertySource;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Structured logs and traces across threads: with every request sampled, the saga's log event of a workspace's
 * provider call, written by Spring Boot's structured (logstash) encoder, is one JSON object with the request id, the
 * workspace id and a trace id, and that trace holds the HTTP request that asked for the workspace, the saga step and
 * the provider call the saga made on another thread (spans caught by an in-memory exporter, the test's stand-in for
 * OTLP).
 */
@TestPropertySource(properties = {"logging.structured.format.console=logstash",
        "management.tracing.sampling.probability=1.0"})
@Import(TracingIT.Exporter.class)
class TracingIT extends EngineIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestConfiguration
    static class Exporter {
        @Bean
        RecordingExporter recordingExporter() {
            return new RecordingExporter();
        }
    }

    /** Keeps what the batch span processor exports. */
    static class RecordingExporter implements SpanExporter {
        final List<SpanData> spans = new CopyOnWriteArrayList<>();

        @Override
        public CompletableResultCode export(Collection<SpanData> batch) {
            spans.addAll(batch);
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }

    @Autowired
    RecordingExporter exporter;

    @Test
    void theProviderCallOfAWorkspaceStartIsLoggedAsJsonAndTracedBackToItsRequest() throws Exception {
        // The saga's own log events, with the MDC as it was on the saga's thread. (The engine's console switches to
        // JSON by the property above only when its context is the first in the JVM: Logback is set up once per JVM,
        // so the JSON comes from Spring Boot's structured encoder, the one the property selects, applied below.)
        ch.qos.logback.classic.Logger sagaLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(dev.atelier.lifecycle.WorkspaceTransitionSaga.class);
        Recorder recorder = new Recorder();
        recorder.setContext(sagaLog.getLoggerContext());
        recorder.start();
        sagaLog.addAppender(recorder);
        String id;
        ILoggingEvent event;
        try {
            String templateId = createLocalTemplate("traced", "sleep 100000");
            id = admin.post("/api/v1/workspaces", Map.of("name", "traced", "templateId", templateId))
                    .json().get("id").asText();
            admin.awaitStatus(id, "RUNNING");
            event = await().atMost(Duration.ofSeconds(20)).until(() -> recorder.events.stream()
                    .filter(e -> e.getFormattedMessage().equals("workspace " + id + " build 1: create at provider local"))
                    .findFirst(), Optional::isPresent).orElseThrow();
        } finally {
            sagaLog.detachAppender(recorder);
        }

        org.springframework.boot.logging.logback.StructuredLogEncoder encoder =
                new org.springframework.boot.logging.logback.StructuredLogEncoder();
        encoder.setContext(sagaLog.getLoggerContext());
        encoder.setFormat("logstash");
        encoder.start();
        JsonNode line = JSON.readTree(new String(encoder.encode(event), java.nio.charset.StandardCharsets.UTF_8));
        assertThat(line.path("level").asText()).isEqualTo("INFO");
        assertThat(line.path("message").asText()).contains(id);
        assertThat(line.path("workspaceId").asText()).isEqualTo(id);
        assertThat(line.path("requestId").asText()).isNotBlank();
        assertThat(line.path("node").asText()).isNotBlank();
        String traceId = line.path("traceId").asText();
        assertThat(traceId).matches("[0-9a-f]{32}");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<SpanData> trace = exporter.spans.stream().filter(s -> s.getTraceId().equals(traceId)).toList();
            assertThat(trace).extracting(SpanData::getName)
                    .as("the request, the saga and the provider call in one trace")
                    .contains("provider local create")
                    .anySatisfy(name -> assertThat(name).contains("WorkspaceTransitionSaga"));
            assertThat(trace).as("the HTTP request that created the workspace is the trace's server span")
                    .anySatisfy(s -> {
                        assertThat(s.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.SERVER);
                        assertThat(s.getName()).containsIgnoringCase("post");
                        assertThat(s.getAttributes().asMap().toString()).contains("/api/v1/workspaces");
                    });
            SpanData provider = trace.stream().filter(s -> s.getName().equals("provider local create")).findFirst()
                    .orElseThrow();
            assertThat(provider.getAttributes().asMap().toString()).contains(id);
            assertThat(provider.getParentSpanContext().isValid()).as("a child, not a trace of its own").isTrue();
        });
    }

    /** Keeps log events with the MDC of the thread that logged them. */
    static class Recorder extends ch.qos.logback.core.AppenderBase<ILoggingEvent> {
        final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent e) {
            e.prepareForDeferredProcessing();
            events.add(e);
        }
    }

}
