package dev.atelier.projections.idle;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * {@code atelier.idle.*}.
 *
 * @param flushInterval how often buffered heartbeats are written to the database (in one batch)
 * @param staleAfter    connections reported by a heartbeat older than this no longer count as open (the agent
 *                      died or lost its network); keep it a few heartbeat intervals
 */
@ConfigurationProperties("atelier.idle")
public record IdleSettings(@DefaultValue("PT2S") Duration flushInterval, @DefaultValue("PT2M") Duration staleAfter) {
}
