package dev.atelier.cluster;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/health} component {@code node}: this node's id and whether it hears the other nodes' view
 * notices. Always UP: a node that cannot listen still serves everything but live updates projected elsewhere, and
 * reconnects by itself.
 */
@Component("node")
public class NodeHealth extends AbstractHealthIndicator {

    private final Node node;
    private final ViewNotices notices;

    public NodeHealth(Node node, ViewNotices notices) {
        this.node = node;
        this.notices = notices;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.up().withDetail("id", node.id()).withDetail("viewNotices", notices.listening() ? "listening" : "reconnecting")
                .withDetail("noticesReceived", notices.received());
        if (!notices.listening() && notices.lastError() != null) {
            builder.withDetail("lastError", notices.lastError());
        }
    }
}
