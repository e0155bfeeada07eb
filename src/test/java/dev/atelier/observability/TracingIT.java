package dev.atelier.observability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.support.EngineIntegrationTest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
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
 * Structured logs and traces across threads: with {@code logging.structured.format.console=logstash} and every
 * request sampled, the saga's log line of a workspace's provider call is one JSON object with the request id, the
 * workspace id and a trace id, and that trace holds the HTTP request that asked for the workspace and the provider
 * call the saga made on another thread (spans caught by an in-memory exporter, the test's stand-in for OTLP).
 */
@ExtendWith(OutputCaptureExtension.class)
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
    void theProviderCallOfAWorkspaceStartIsLoggedAsJsonAndTracedBackToItsRequest(CapturedOutput output) {
        String templateId = createLocalTemplate("traced", "sleep 100000");
        String id = admin.post("/api/v1/workspaces", Map.of("name", "traced", "templateId", templateId))
                .json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");

        JsonNode line = await().atMost(Duration.ofSeconds(20)).until(() -> providerCallLine(output, id),
                Optional::isPresent).orElseThrow();
        assertThat(line.path("level").asText()).isEqualTo("INFO");
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
                    .anySatisfy(name -> assertThat(name).containsIgnoringCase("post"))
                    .anySatisfy(name -> assertThat(name).contains("WorkspaceTransitionSaga"));
            SpanData provider = trace.stream().filter(s -> s.getName().equals("provider local create")).findFirst()
                    .orElseThrow();
            assertThat(provider.getAttributes().asMap().toString()).contains(id);
            assertThat(provider.getParentSpanContext().isValid()).as("a child, not a trace of its own").isTrue();
        });
    }

    private static Optional<JsonNode> providerCallLine(CapturedOutput output, String workspaceId) {
        return output.getOut().lines().filter(l -> l.startsWith("{") && l.contains("create at provider local"))
                .map(TracingIT::parse).filter(j -> j != null && j.path("message").asText().contains(workspaceId))
                .findFirst();
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (Exception e) {
            return null;
        }
    }
}
