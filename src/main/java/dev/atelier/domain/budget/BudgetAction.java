package dev.atelier.domain.budget;

/** What happens when a budget is used up: only tell (events, SSE), or also stop the scope's workspaces. */
public enum BudgetAction {
    NOTIFY, STOP
}
