package dev.atelier.providers.cloud;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The fake cloud API server of a provider test class ({@code @RegisterExtension static}): started when the class
 * is loaded, so that the provider under test can be built with its URL; cleared of stubs and requests before each
 * test (the test then sets up the answers it needs); stopped after the last test.
 */
public final class CloudFakeServer implements BeforeEachCallback, AfterAllCallback {

    private final WireMockServer server = CloudFake.start();

    public WireMockServer server() {
        return server;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        server.resetAll();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        server.stop();
    }
}
