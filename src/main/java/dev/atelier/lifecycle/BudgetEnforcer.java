package dev.atelier.lifecycle;

import dev.atelier.domain.budget.BudgetGuard;
import dev.atelier.domain.budget.CheckBudgetCommand;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.workspace.StopWorkspaceCommand;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.projections.cost.BudgetProjection;
import dev.atelier.projections.cost.CostReports;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.util.Map;
import java.util.UUID;

/**
 * Runs on a persistent, cluster-safe schedule (a db-scheduler recurring task, {@link BudgetChecks}): asks every
 * budget to check its scope's spend (the Budget aggregate decides and records the crossings), then stops the
 * running workspaces of every used-up budget with {@code action: stop}, through the Workspace aggregate with reason
 * BUDGET and the engine as actor. It decides nothing itself, and it lives with the lifecycle code rather than with
 * the cost projections because it sends commands: projections only read events. Stopping again on every check also
 * catches a workspace that was starting when the budget ran out.
 */
@Component
public class BudgetEnforcer {

    private static final Logger log = LoggerFactory.getLogger(BudgetEnforcer.class);

    private final CommandGateway commands;
    private final BudgetProjection budgets;
    private final CostReports costs;

    public BudgetEnforcer(CommandGateway commands, BudgetProjection budgets, CostReports costs) {
        this.commands = commands;
        this.budgets = budgets;
        this.costs = costs;
    }

    public void checkAll() {
        String run = "budget-check-" + UUID.randomUUID().toString().substring(0, 8);
        for (String budgetId : budgets.budgetIds()) {
            try {
                commands.sendAndWait(message(new CheckBudgetCommand(budgetId), run));
            } catch (RuntimeException e) {
                log.warn("budget {} could not be checked: {}", budgetId, e.getMessage());
            }
        }
        for (BudgetGuard.Block block : budgets.blockingAt(costs.now())) {
            for (String workspaceId : costs.runningWorkspaces(block.scope(), block.name())) {
                try {
                    commands.sendAndWait(message(new StopWorkspaceCommand(workspaceId, TransitionReason.BUDGET,
                            Actor.SYSTEM), run));
                    log.info("stopped workspace {}: budget of {} '{}' is used up for {}", workspaceId,
                            block.scope().id(), block.name(), block.period());
                } catch (RuntimeException e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    if (e instanceof DomainRuleViolation || cause instanceof DomainRuleViolation) {
                        log.debug("workspace {} not stopped for its budget: {}", workspaceId, e.getMessage());
                    } else {
                        log.warn("workspace {} could not be stopped for its budget: {}", workspaceId, e.getMessage());
                    }
                }
            }
        }
    }

    private static Object message(Object command, String requestId) {
        return GenericCommandMessage.asCommandMessage(command).andMetaData(Map.of("actorId", Actor.SYSTEM.id(),
                "actorType", Actor.SYSTEM.type().name(), "requestId", requestId));
    }
}
