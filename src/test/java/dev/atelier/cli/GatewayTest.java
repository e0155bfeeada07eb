package dev.atelier.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The gateway's address as given on the command line, its known_hosts text, and the SSH names of workspaces. */
class GatewayTest {

    @Test
    void anAddressIsHostAndPortAndTheHostDefaultsToTheEngines() {
        assertThat(Gateway.parse("gw.example.com:2222", "engine").address()).isEqualTo("gw.example.com:2222");
        assertThat(Gateway.parse("2200", "engine").address()).isEqualTo("engine:2200");
        assertThat(Gateway.parse("[::1]:2222", "engine").address()).isEqualTo("[::1]:2222");
        for (String bad : List.of("gw:0", "gw:70000", "gw:x", "$(id):22", "a b:22", "")) {
            assertThatThrownBy(() -> Gateway.parse(bad, "engine")).as(bad)
                    .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCodes.USAGE));
        }
    }

    @Test
    void knownHostsAreSortedUnderTheAliasSoTheSameKeysGiveTheSameBytes() {
        Gateway a = new Gateway("h", 22, List.of("ssh-rsa AAAAB3", "ssh-ed25519 AAAAC3"));
        Gateway b = new Gateway("h", 22, List.of("ssh-ed25519 AAAAC3", "ssh-rsa AAAAB3"));
        assertThat(a.knownHosts()).isEqualTo(b.knownHosts())
                .endsWith("atelier-gateway ssh-ed25519 AAAAC3\natelier-gateway ssh-rsa AAAAB3\n");
    }

    @Test
    void ownWorkspacesAreAtelierNameOthersCarryTheirOwnerAndUnsafeNamesAreLeftOut() {
        ObjectNode mine = EngineClient.JSON.createObjectNode().put("name", "web").put("owner", "alice");
        assertThat(SshSupport.entry(mine, "alice")).isEqualTo(new SshConfigFile.Entry("atelier.web", "web", "web"));
        assertThat(SshSupport.entry(mine, "root"))
                .isEqualTo(new SshConfigFile.Entry("atelier.alice.web", "alice.web", "alice.web"));
        ObjectNode mail = EngineClient.JSON.createObjectNode().put("name", "web").put("owner", "a@example.com");
        assertThat(SshSupport.entry(mail, "root")).isNull();
        ObjectNode odd = EngineClient.JSON.createObjectNode().put("name", "Web;id").put("owner", "alice");
        assertThat(SshSupport.entry(odd, "alice")).isNull();
    }
}
