package dev.atelier.providers.cloud;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.client.ScenarioMappingBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A local stand-in for a cloud API: a WireMock server answering with responses recorded in the shape the real
 * service sends (files under {@code src/test/resources}), so that the real SDK runs its real marshalling, signing,
 * retries and parsing against it.
 */
public final class CloudFake {

    private static final AtomicInteger SEQUENCES = new AtomicInteger();

    private CloudFake() {
    }

    public static WireMockServer start() {
        WireMockServer server = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        server.start();
        return server;
    }

    /** A response body kept as a file under the test resources. */
    public static String recorded(String resource) {
        try (InputStream in = CloudFake.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no recorded response " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Requests matching {@code request} get the responses in order, then the last one for ever. A newer sequence
     * for the same request replaces an older one (WireMock prefers the stub added last).
     */
    public static void sequence(WireMockServer server, Supplier<MappingBuilder> request,
                                List<ResponseDefinitionBuilder> responses) {
        String scenario = "sequence-" + SEQUENCES.incrementAndGet();
        for (int i = 0; i < responses.size(); i++) {
            ScenarioMappingBuilder stub = request.get().inScenario(scenario)
                    .whenScenarioStateIs(i == 0 ? Scenario.STARTED : "step-" + i);
            stub.willReturn(responses.get(i));
            if (i + 1 < responses.size()) {
                stub.willSetStateTo("step-" + (i + 1));
            }
            server.stubFor(stub);
        }
    }

    /** The one request in {@code requests} (asserts there was exactly one). */
    public static LoggedRequest single(List<LoggedRequest> requests, String what) {
        assertThat(requests).as(what + " requests").hasSize(1);
        return requests.get(0);
    }

    /** Text the SDK sent base64-encoded (user data, custom data). */
    public static String base64Text(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }
}
