package dev.atelier.projections.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Chains entries that had to wait for a gap in the event store's global order when no further event arrives to
 * trigger it (the processor chains at the end of each batch; this covers the quiet time after one).
 */
@Component
class AuditSealer implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AuditSealer.class);

    private final AuditChain chain;
    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Duration interval;
    private ScheduledExecutorService scheduler;

    AuditSealer(AuditChain chain, JdbcTemplate jdbc, TransactionTemplate transactions,
                @Value("${atelier.audit.seal-interval:PT1S}") Duration interval) {
        this.chain = chain;
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.interval = interval;
    }

    void sealPending() {
        try {
            if (Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM audit_pending)", Boolean.class))) {
                transactions.executeWithoutResult(status -> chain.seal());
            }
        } catch (RuntimeException e) {
            log.warn("audit: chaining pending entries failed, will retry: {}", e.getMessage());
        }
    }

    @Override
    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "audit-sealer");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::sealPending, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return scheduler != null;
    }
}
