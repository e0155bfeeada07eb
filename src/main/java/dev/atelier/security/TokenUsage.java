package dev.atelier.security;

import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * When each API token was last used, without a database write per request: uses are collected in memory (the latest
 * per token) and written in one batch every {@code atelier.tokens.last-used-flush-interval}. Reads merge what is not
 * written yet, so this node always answers with the latest use it saw; another node's uses show after its next flush.
 */
@Component
public class TokenUsage {

    private static final Logger log = LoggerFactory.getLogger(TokenUsage.class);

    private final JdbcTemplate jdbc;
    private final Map<UUID, Instant> pending = new ConcurrentHashMap<>();

    public TokenUsage(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    void used(UUID tokenId, Instant at) {
        pending.merge(tokenId, at, (a, b) -> a.isAfter(b) ? a : b);
    }

    /** The latest use this node saw and has not written yet, if any. */
    Instant unwritten(UUID tokenId) {
        return pending.get(tokenId);
    }

    /** On shutdown, what is collected is written, but shutdown does not wait on a database that is gone already. */
    @PreDestroy
    void flushOnShutdown() {
        try {
            CompletableFuture.runAsync(this::flush).get(2, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("the last use of some API tokens was not written at shutdown");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Scheduled(fixedDelayString = "${atelier.tokens.last-used-flush-interval:PT30S}")
    public void flush() {
        if (pending.isEmpty()) {
            return;
        }
        List<Object[]> batch = new ArrayList<>();
        for (UUID id : new ArrayList<>(pending.keySet())) {
            Instant at = pending.remove(id);
            if (at != null) {
                batch.add(new Object[]{Timestamp.from(at), id, Timestamp.from(at)});
            }
        }
        try {
            jdbc.batchUpdate("UPDATE api_token SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                    batch);
        } catch (RuntimeException e) {
            log.warn("could not write the last use of {} API tokens: {}", batch.size(), e.getMessage());
        }
    }
}
