package dev.atelier.reconcile;

import com.github.kagkarlsson.scheduler.task.helper.RecurringTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.github.kagkarlsson.scheduler.task.schedule.FixedDelay;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Runs reconciliation as a db-scheduler recurring task: stored in PostgreSQL, picked by one node at a time, and
 * surviving restarts. The run itself also takes an advisory lock, so that a manual run cannot overlap it.
 */
@Configuration(proxyBeanMethods = false)
public class ReconcileConfiguration {

    public static final String TASK = "atelier-reconcile";

    @Bean
    @ConditionalOnProperty(name = "atelier.reconcile.enabled", havingValue = "true", matchIfMissing = true)
    RecurringTask<Void> reconcileTask(ReconcileSettings settings, Reconciliation reconciliation) {
        return Tasks.recurring(TASK, FixedDelay.of(settings.interval()))
                .execute((instance, context) -> reconciliation.run());
    }
}
