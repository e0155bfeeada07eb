package dev.atelier.domain.identity;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Set;

/**
 * The User aggregate: logins sync only what changed, owner-managed teams survive logins, suspension is decided once,
 * SSH keys are unique per user, and ids and team names are validated.
 */
class UserTest {

    private static final Actor ADA = Actor.user("ada");
    private static final Actor OWNER = Actor.user("olga");

    private AggregateTestFixture<User> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(User.class);
    }

    private static UserRegisteredEvent registered(Set<String> teams) {
        return new UserRegisteredEvent("ada", "Ada", "ada@example.com", Set.of("member"), teams, IdentitySource.OIDC, ADA);
    }

    @Test
    void theFirstLoginRegistersTheUser() {
        fixture.givenNoPriorActivity()
                .when(new RegisterUserCommand("ada", "Ada", "ada@example.com", Set.of("member"), Set.of("blue"),
                        IdentitySource.OIDC, ADA))
                .expectEvents(registered(Set.of("blue")));
    }

    @Test
    void aLoginThatChangesNothingRecordsNothing() {
        fixture.given(registered(Set.of("blue")))
                .when(new SyncUserCommand("ada", "Ada", "ada@example.com", Set.of("member"), Set.of("blue"), ADA))
                .expectNoEvents();
    }

    @Test
    void aLoginSyncsProfileRolesAndTheProvidersTeamsButKeepsTeamsAnOwnerGave() {
        fixture.given(registered(Set.of("blue")),
                        new UserTeamsChangedEvent("ada", Set.of("blue", "red"), Set.of("red"), Set.of(), IdentitySource.OWNER, OWNER))
                .when(new SyncUserCommand("ada", "Ada L.", "ada@example.com", Set.of("member", "owner"), Set.of("green"), ADA))
                .expectEvents(
                        new UserProfileChangedEvent("ada", "Ada L.", "ada@example.com", Set.of("member", "owner"), ADA),
                        new UserTeamsChangedEvent("ada", Set.of("green", "red"), Set.of("green"), Set.of("blue"),
                                IdentitySource.OIDC, ADA));
    }

    @Test
    void aTeamFromBothSourcesStaysWhenOneLetsGo() {
        fixture.given(registered(Set.of("blue")),
                        new UserTeamsChangedEvent("ada", Set.of("blue"), Set.of("blue"), Set.of(), IdentitySource.OWNER, OWNER))
                .when(new SyncUserCommand("ada", "Ada", "ada@example.com", Set.of("member"), Set.of(), ADA))
                .expectEvents(new UserTeamsChangedEvent("ada", Set.of("blue"), Set.of(), Set.of("blue"),
                        IdentitySource.OIDC, ADA));
    }

    @Test
    void ownersSetMembershipIdempotently() {
        fixture.given(registered(Set.of()))
                .when(new ChangeTeamMembershipCommand("ada", "red", true, OWNER))
                .expectEvents(new UserTeamsChangedEvent("ada", Set.of("red"), Set.of("red"), Set.of(),
                        IdentitySource.OWNER, OWNER));
        fixture.given(registered(Set.of()),
                        new UserTeamsChangedEvent("ada", Set.of("red"), Set.of("red"), Set.of(), IdentitySource.OWNER, OWNER))
                .when(new ChangeTeamMembershipCommand("ada", "red", true, OWNER))
                .expectNoEvents();
    }

    @Test
    void aSuspendedUserCannotLogInAndSuspensionIsDecidedOnce() {
        fixture.given(registered(Set.of()), new UserSuspendedEvent("ada", OWNER))
                .when(new SyncUserCommand("ada", "Ada", "ada@example.com", Set.of("member"), Set.of(), ADA))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(org.hamcrest.Matchers.containsString("suspended"))
                .expectNoEvents();
        fixture.given(registered(Set.of()), new UserSuspendedEvent("ada", OWNER))
                .when(new SuspendUserCommand("ada", OWNER))
                .expectException(DomainRuleViolation.class)
                .expectNoEvents();
        fixture.given(registered(Set.of()), new UserSuspendedEvent("ada", OWNER))
                .when(new ActivateUserCommand("ada", OWNER))
                .expectEvents(new UserActivatedEvent("ada", OWNER));
        fixture.given(registered(Set.of()))
                .when(new ActivateUserCommand("ada", OWNER))
                .expectException(DomainRuleViolation.class);
    }

    @Test
    void aKeyIsRegisteredOncePerUserAndRemovedById() {
        SshKeyAddedEvent added = new SshKeyAddedEvent("ada", "k1", "laptop", "ssh-ed25519", 256, "SHA256:abc",
                "ssh-ed25519 AAAA", ADA);
        fixture.given(registered(Set.of()), added)
                .when(new AddSshKeyCommand("ada", "k2", "desktop", "ssh-ed25519", 256, "SHA256:abc", "ssh-ed25519 AAAA", ADA))
                .expectException(DomainRuleViolation.class)
                .expectNoEvents();
        fixture.given(registered(Set.of()), added)
                .when(new RemoveSshKeyCommand("ada", "k1", ADA))
                .expectEvents(new SshKeyRemovedEvent("ada", "k1", "SHA256:abc", ADA));
        fixture.given(registered(Set.of()))
                .when(new RemoveSshKeyCommand("ada", "k1", ADA))
                .expectException(DomainRuleViolation.class);
    }

    @Test
    void idsAndTeamNamesAreValidatedWithoutEchoingThem() {
        fixture.givenNoPriorActivity()
                .when(new RegisterUserCommand("ada/../x", null, null, Set.of(), Set.of(), IdentitySource.OWNER, OWNER))
                .expectException(DomainRuleViolation.class)
                .expectExceptionMessage(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("../")));
        fixture.givenNoPriorActivity()
                .when(new RegisterUserCommand("ada", null, null, Set.of(), Set.of("bad team"), IdentitySource.OWNER, OWNER))
                .expectException(DomainRuleViolation.class);
        fixture.givenNoPriorActivity()
                .when(new RegisterUserCommand("ada", null, "no-at-sign", Set.of(), Set.of(), IdentitySource.OWNER, OWNER))
                .expectException(DomainRuleViolation.class);
    }
}
