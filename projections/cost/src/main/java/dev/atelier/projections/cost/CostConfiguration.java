package dev.atelier.projections.cost;

import com.github.kagkarlsson.scheduler.task.helper.RecurringTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.github.kagkarlsson.scheduler.task.schedule.FixedDelay;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The cost area's settings and its one scheduled task: budget checks run as a db-scheduler recurring task, stored in
 * PostgreSQL, so that they survive restarts and run on one node at a time in a cluster.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(CostSettings.class)
public class CostConfiguration {

    public static final String BUDGET_CHECK_TASK = "atelier-budget-check";

    @Bean
    RecurringTask<Void> budgetCheckTask(CostSettings settings, BudgetEnforcer enforcer) {
        return Tasks.recurring(BUDGET_CHECK_TASK, FixedDelay.of(settings.budgetCheckInterval()))
                .execute((instance, context) -> enforcer.checkAll());
    }
}
