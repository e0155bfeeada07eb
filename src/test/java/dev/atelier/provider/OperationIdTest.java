package dev.atelier.provider;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OperationIdTest {

    @Test
    void everyPartSurvivesEncodingAndTheEncodingReadsAsText() {
        OperationId id = new OperationId("start", null, "3f2a-4", Instant.parse("2026-11-03T10:02:11.284911Z"));
        assertThat(id.encode()).isEqualTo("v1;kind=start;key=3f2a-4;at=2026-11-03T10:02:11.284Z");
        assertThat(OperationId.parse("docker", id.encode())).isEqualTo(id);
        assertThat(id.at()).as("kept to the millisecond").isEqualTo(Instant.parse("2026-11-03T10:02:11.284Z"));
    }

    @Test
    void aHandleKeepsItsSeparatorsAndOnlyPercentAndSemicolonAreEscaped() {
        String url = "https://management.azure.com/subscriptions/5f2a/operations/8d3f?p=a%2Fb;c&api-version=2025-04-01";
        OperationId id = OperationId.of("create", "Azure-AsyncOperation " + url);
        assertThat(id.encode()).isEqualTo("v1;kind=create;handle=Azure-AsyncOperation "
                + "https://management.azure.com/subscriptions/5f2a/operations/8d3f?p=a%252Fb%3Bc&api-version=2025-04-01");
        assertThat(OperationId.parse("azure-vm", id.encode()).handle()).isEqualTo("Azure-AsyncOperation " + url);
        OperationId tricky = new OperationId("x", "%3B;%25%", ";%", null);
        assertThat(OperationId.parse("p", tricky.encode())).isEqualTo(tricky);
    }

    @Test
    void anOldIdIsReadByTheProvidersLegacyReadingAndAnythingElseIsAnUnknownOperation() {
        OperationId awaiting = OperationId.parse("aws-ec2", "running", old -> old.equals("running")
                ? OperationId.of("await-running") : null);
        assertThat(awaiting).isEqualTo(OperationId.of("await-running"));

        assertThatThrownBy(() -> OperationId.parse("aws-ec2", "sideways", old -> null))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessage("unknown aws-ec2 operation 'sideways'");
        assertThatThrownBy(() -> OperationId.parse("docker", "v1;kind=start;colour=blue"))
                .isInstanceOf(ProviderException.class).hasMessageContaining("unknown docker operation");
        assertThatThrownBy(() -> OperationId.parse("docker", "v1;kind=start;at=yesterday"))
                .isInstanceOf(ProviderException.class);
        assertThatThrownBy(() -> OperationId.parse("docker", "v1;kind=a;kind=b")).isInstanceOf(ProviderException.class);
        assertThatThrownBy(() -> OperationId.parse("docker", null)).isInstanceOf(ProviderException.class);
    }

    @Test
    void theOldFormOfDockerKubernetesAndSshIsKindKeyAndMillis() {
        assertThat(OperationId.fromKindKeyMillis("start:ws-1-3:1762161267123")).isEqualTo(
                new OperationId("start", null, "ws-1-3", Instant.ofEpochMilli(1762161267123L)));
        assertThat(OperationId.fromKindKeyMillis("pull:ws-1-3")).isEqualTo(new OperationId("pull", null, "ws-1-3", null));
        assertThat(OperationId.fromKindKeyMillis("start:ws-1-3:soon")).isNull();
        assertThat(OperationId.fromKindKeyMillis("await:RUNNING:1:2")).isNull();
        assertThat(OperationId.fromKindKeyMillis("running")).isNull();
    }

    @Test
    void anAttemptCarriesTheRequestsIdempotencyKeyAndWhatIsMissingIsSaid() {
        ProvisionRequest request = new ProvisionRequest("ws-1", 4, "alice", null, null, null, null, null);
        Instant now = Instant.parse("2026-11-03T10:00:00Z");
        OperationId stop = OperationId.attempt("stop", request, now);
        assertThat(stop.key()).isEqualTo("ws-1-4");
        assertThat(stop.requireAt()).isEqualTo(now);
        assertThat(stop.is("stop")).isTrue();
        assertThatThrownBy(stop::requireHandle).isInstanceOf(ProviderException.class).hasMessageContaining("no handle");
        assertThatThrownBy(() -> OperationId.of("start").requireAt()).isInstanceOf(ProviderException.class);
        assertThatThrownBy(() -> OperationId.of("start;x")).isInstanceOf(IllegalArgumentException.class);
    }
}
