package dev.atelier.api;

import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientAddressesTest {

    private static final ClientAddresses TRUSTING = new ClientAddresses(new AbuseSettings(
            List.of("10.0.0.0/8", "192.168.1.1"), 30, Duration.ofMinutes(1), 100));

    private static MockServerWebExchange from(String peer, String header, String value) {
        MockServerHttpRequest.BaseBuilder<?> request = MockServerHttpRequest.get("/api/v1/workspaces")
                .remoteAddress(new InetSocketAddress(peer, 40000));
        if (header != null) {
            request.header(header, value);
        }
        return MockServerWebExchange.from(request);
    }

    @Test
    void forwardedHeadersCountOnlyWhenThePeerIsATrustedProxy() {
        assertThat(TRUSTING.resolve(from("203.0.113.5", "X-Forwarded-For", "1.2.3.4"))).isEqualTo("203.0.113.5");
        assertThat(TRUSTING.resolve(from("10.1.2.3", "X-Forwarded-For", "1.2.3.4"))).isEqualTo("1.2.3.4");
        // The right-most address that is not a trusted proxy: the left part is whatever the client claimed.
        assertThat(TRUSTING.resolve(from("10.1.2.3", "X-Forwarded-For", "6.6.6.6, 1.2.3.4, 10.9.9.9")))
                .isEqualTo("1.2.3.4");
        assertThat(TRUSTING.resolve(from("192.168.1.1", "Forwarded", "for=198.51.100.7;proto=https, for=10.0.0.2")))
                .isEqualTo("198.51.100.7");
        assertThat(TRUSTING.resolve(from("192.168.1.1", "Forwarded", "for=\"[2001:db8::1]:4711\"")))
                .isEqualTo("2001:db8::1");
        // Names are never looked up, garbage is ignored.
        assertThat(TRUSTING.resolve(from("10.1.2.3", "X-Forwarded-For", "evil.example, cafe.be")))
                .isEqualTo("10.1.2.3");
        assertThat(new ClientAddresses(new AbuseSettings(List.of(), 30, Duration.ofMinutes(1), 100))
                .resolve(from("10.1.2.3", "X-Forwarded-For", "1.2.3.4"))).isEqualTo("10.1.2.3");
    }

    @Test
    void aTrustedProxyThatIsNotAnAddressStopsTheStart() {
        assertThatThrownBy(() -> new ClientAddresses(new AbuseSettings(List.of("proxy.internal"), 30,
                Duration.ofMinutes(1), 100))).hasMessageContaining("atelier.security.trusted-proxies");
    }
}
