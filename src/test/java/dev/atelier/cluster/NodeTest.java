package dev.atelier.cluster;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeTest {

    @Test
    void aConfiguredIdIsUsedAsGiven() {
        assertThat(Node.choose(" node-b.eu_1 ")).isEqualTo("node-b.eu_1");
    }

    @Test
    void withoutAnIdTheHostNameIsUsed() {
        assertThat(Node.choose(null)).isNotBlank().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
        assertThat(Node.choose("  ")).isEqualTo(Node.choose(null));
    }

    @Test
    void anIdThatCouldCarrySomethingElseIsRefusedWithoutEchoingIt() {
        for (String bad : new String[]{"a b", "-lead", "x\ny", "a'; DROP", "n".repeat(65)}) {
            assertThatThrownBy(() -> Node.choose(bad)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("atelier.node-id").hasMessageNotContaining(bad.strip());
        }
    }

    @Test
    void aThreadThatLogsGetsTheNodeIdInItsMdcAndKeepsTheOneItHas() throws Exception {
        NodeLogging logging = new NodeLogging(new Node(new NodeSettings("mdc-node")));
        ch.qos.logback.classic.LoggerContext context = (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
        try {
            assertThat(context.getTurboFilterList()).contains(logging);
            String[] seen = new String[2];
            Thread fresh = new Thread(() -> {
                // what Logback does before every log call, whatever other filters a shared JVM holds
                logging.decide(null, null, null, "hello", null, null);
                seen[0] = MDC.get(Node.MDC_KEY);
                MDC.put(Node.MDC_KEY, "other-node");
                logging.decide(null, null, null, "hello", null, null);
                seen[1] = MDC.get(Node.MDC_KEY);
            });
            fresh.start();
            fresh.join();
            assertThat(seen).containsExactly("mdc-node", "other-node");
        } finally {
            logging.close();
        }
        assertThat(context.getTurboFilterList()).doesNotContain(logging);
    }
}
