package dev.atelier.cluster;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Which node of a cluster this engine is ({@code atelier.node-id}, environment {@code ATELIER_NODE_ID}). Several
 * engines share one PostgreSQL; the id tells them apart in {@code /actuator/health}, in the logs, in the owner
 * column of Axon's token claims and in the notices one node sends the others about changed read models.
 *
 * @param nodeId this node's id; the host name when unset
 */
@ConfigurationProperties("atelier")
public record NodeSettings(String nodeId) {
}
