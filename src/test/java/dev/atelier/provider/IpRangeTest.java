package dev.atelier.provider;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IpRangeTest {

    @Test
    void rangesContainAddressesAndRangesOfTheirFamilyOnly() throws Exception {
        IpRange net = IpRange.parse("10.96.3.7/16");
        assertThat(net).hasToString("10.96.0.0/16");
        assertThat(net.contains(InetAddress.getByName("10.96.255.1"))).isTrue();
        assertThat(net.contains(InetAddress.getByName("10.97.0.1"))).isFalse();
        assertThat(net.contains(IpRange.parse("10.96.0.15"))).isTrue();
        assertThat(IpRange.parse("10.96.0.15").contains(net)).isFalse();
        assertThat(IpRange.parse("0.0.0.0/0").contains(IpRange.parse("fd00::1"))).isFalse();
        assertThat(IpRange.parse("::/0").contains(IpRange.parse("fd00::1"))).isTrue();
        assertThat(IpRange.parse("fd00::/8").contains(InetAddress.getByName("fe80::1"))).isFalse();
    }

    @Test
    void onlyAddressLiteralsAreParsedNeverNames() {
        for (String bad : new String[] {"db.internal/32", "localhost", "10.0.0.0/33", "10.0.0.0/x", "", "::/129"}) {
            assertThatThrownBy(() -> IpRange.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
