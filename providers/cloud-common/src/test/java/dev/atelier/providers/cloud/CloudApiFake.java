package dev.atelier.providers.cloud;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.RequestMethod;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import java.util.List;
import java.util.function.Supplier;

import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

/**
 * What every fake of a cloud's API shares: the WireMock server it answers on, the workspace whose resources its
 * recorded answers describe, answers in sequence, and the requests the SDK really sent. A fake adds the cloud's own
 * resources, states and error bodies.
 *
 * @param <F> the fake itself, for chained calls
 */
public abstract class CloudApiFake<F extends CloudApiFake<F>> {

    protected final WireMockServer server;
    protected String workspaceId;

    protected CloudApiFake(WireMockServer server, String workspaceId) {
        this.server = server;
        this.workspaceId = workspaceId;
    }

    /** The fake's base URL; a plain http:// endpoint is emulator mode for the GCP and Azure providers. */
    public String endpoint() {
        return server.baseUrl();
    }

    /** Recorded answers describe this workspace's resources from now on. */
    @SuppressWarnings("unchecked")
    public F forWorkspace(String id) {
        this.workspaceId = id;
        return (F) this;
    }

    /** Requests matching {@code request} get these answers in turn, then the last one for ever. */
    public void answers(Supplier<MappingBuilder> request, ResponseDefinitionBuilder... responses) {
        CloudFake.sequence(server, request, List.of(responses));
    }

    public List<LoggedRequest> requests(RequestMethod method, String pathRegex) {
        return server.findAll(new RequestPatternBuilder(method, urlPathMatching(pathRegex)));
    }

    /** The one request of this kind the SDK sent (asserts there was exactly one). */
    public LoggedRequest single(RequestMethod method, String pathRegex) {
        return CloudFake.single(requests(method, pathRegex), method + " " + pathRegex);
    }
}
