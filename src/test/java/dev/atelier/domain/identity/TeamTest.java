package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.Test;

class TeamTest {

    private static final Actor OWNER = Actor.user("olga");

    @Test
    void aTeamIsCreatedOnceWithAValidName() {
        AggregateTestFixture<Team> fixture = new AggregateTestFixture<>(Team.class);
        fixture.givenNoPriorActivity()
                .when(new CreateTeamCommand("platform", "the platform team", IdentitySource.OWNER, OWNER))
                .expectEvents(new TeamCreatedEvent("platform", "the platform team", IdentitySource.OWNER, OWNER));
        new AggregateTestFixture<>(Team.class).given(new TeamCreatedEvent("platform", null, IdentitySource.OIDC, OWNER))
                .when(new CreateTeamCommand("platform", null, IdentitySource.OWNER, OWNER))
                .expectException(DomainRuleViolation.class)
                .expectNoEvents();
        new AggregateTestFixture<>(Team.class).givenNoPriorActivity()
                .when(new CreateTeamCommand("no spaces", null, IdentitySource.OWNER, OWNER))
                .expectException(DomainRuleViolation.class);
    }
}
