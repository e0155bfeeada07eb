package dev.atelier.domain.identity;

import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A team, identified by its name: what workspaces, budgets and cost reports name. Who is in it is each
 * {@link User}'s business (memberships come from logins or owners); the team only has to exist.
 */
@Aggregate(cache = "teamCache")
public class Team {

    @AggregateIdentifier
    private String name;

    protected Team() {
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    public void handle(CreateTeamCommand command) {
        if (name != null) {
            throw DomainRuleViolation.conflict("team " + name + " already exists");
        }
        IdentityRules.requireTeamName(command.name());
        if (command.description() != null && command.description().length() > IdentityRules.MAX_DESCRIPTION) {
            throw DomainRuleViolation.invalid("'description' is longer than " + IdentityRules.MAX_DESCRIPTION
                    + " characters");
        }
        apply(new TeamCreatedEvent(command.name(), command.description(), command.source(), command.actor()));
    }

    @EventSourcingHandler
    void on(TeamCreatedEvent event) {
        name = event.name();
    }
}
