package dev.atelier.lifecycle;

import com.github.kagkarlsson.scheduler.task.helper.RecurringTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.github.kagkarlsson.scheduler.task.schedule.FixedDelay;
import dev.atelier.projections.cost.CostSettings;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The schedule of {@link BudgetEnforcer}: budget checks run as a db-scheduler recurring task, stored in PostgreSQL,
 * so that they survive restarts and run on one node at a time in a cluster. The interval is the cost area's setting
 * ({@link CostSettings#budgetCheckInterval()}).
 */
@Configuration(proxyBeanMethods = false)
public class BudgetChecks {

    public static final String BUDGET_CHECK_TASK = "atelier-budget-check";

    @Bean
    RecurringTask<Void> budgetCheckTask(CostSettings settings, BudgetEnforcer enforcer) {
        return Tasks.recurring(BUDGET_CHECK_TASK, FixedDelay.of(settings.budgetCheckInterval()))
                .execute((instance, context) -> enforcer.checkAll());
    }
}
