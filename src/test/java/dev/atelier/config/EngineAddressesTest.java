package dev.atelier.config;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

class EngineAddressesTest {

    @Test
    void theDatabaseHostsOfAJdbcUrlWithoutLoopback() throws Exception {
        assertThat(EngineAddresses.database("jdbc:postgresql://10.1.2.3:5432/atelier?ssl=true"))
                .containsExactly(InetAddress.getByName("10.1.2.3"));
        assertThat(EngineAddresses.database("jdbc:postgresql://10.0.0.1,10.0.0.2:5433/atelier"))
                .containsExactly(InetAddress.getByName("10.0.0.1"), InetAddress.getByName("10.0.0.2"));
        assertThat(EngineAddresses.database("jdbc:postgresql://[fd00::5]:5432/atelier"))
                .containsExactly(InetAddress.getByName("fd00::5"));
        assertThat(EngineAddresses.database("jdbc:postgresql://127.0.0.1:5432/atelier")).isEmpty();
        assertThat(EngineAddresses.database("not a url")).isEmpty();
    }
}
