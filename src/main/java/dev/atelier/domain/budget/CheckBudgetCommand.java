package dev.atelier.domain.budget;

import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Sent on a persistent schedule: the budget compares the scope's spend with its thresholds. */
public record CheckBudgetCommand(@TargetAggregateIdentifier String budgetId) {
}
