package dev.atelier.lifecycle;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code atelier.agent.ports} is checked at start-up: the agent sends every source in one heartbeat. */
class WorkspaceAgentSettingsTest {

    private static WorkspaceAgents.Settings ports(String ports) {
        return new WorkspaceAgents.Settings(null, Duration.ofSeconds(30), ports);
    }

    @Test
    void acceptsDistinctSourcePortPairs() {
        assertThatCode(() -> ports("ssh:22")).doesNotThrowAnyException();
        assertThatCode(() -> ports(" ssh:22  web-ide:8080 ")).doesNotThrowAnyException();
    }

    @Test
    void refusesWhatTheEngineWouldRefuseInAHeartbeat() {
        assertThatThrownBy(() -> ports("ssh")).hasMessageContaining("'ssh' is not source:port");
        assertThatThrownBy(() -> ports("SSH:22")).hasMessageContaining("'SSH:22' is not source:port");
        assertThatThrownBy(() -> ports("ssh:70000")).hasMessageContaining("port 1-65535");
        assertThatThrownBy(() -> ports("ssh:0")).hasMessageContaining("port 1-65535");
        assertThatThrownBy(() -> ports("agent:22")).hasMessageContaining("reserved");
        assertThatThrownBy(() -> ports("ssh:22 ssh:2222")).hasMessageContaining("given twice");
        assertThatThrownBy(() -> ports("")).hasMessageContaining("1 to 15");
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            many.append("s").append(i).append(":").append(1000 + i).append(' ');
        }
        assertThatThrownBy(() -> ports(many.toString())).hasMessageContaining("1 to 15");
    }
}
