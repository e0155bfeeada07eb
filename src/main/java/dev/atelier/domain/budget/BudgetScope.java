package dev.atelier.domain.budget;

import java.util.Locale;

/** Whose spending a budget limits: a team's workspaces or one owner's. */
public enum BudgetScope {
    TEAM, OWNER;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
