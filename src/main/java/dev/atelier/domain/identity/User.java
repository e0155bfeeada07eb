package dev.atelier.domain.identity;

import dev.atelier.domain.shared.DomainRuleViolation;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A person (or service account) known to Atelier. Appears on the first login through the identity provider or when an
 * owner creates it. Team memberships have a source: logins set the identity provider's ones, owners their own; a user
 * is in a team if either says so. Suspension is decided here; what it means for tokens, sessions and workspaces is
 * carried out by the security layer (per request) and {@code lifecycle.SuspendedUserWorkspaces}.
 */
@Aggregate(cache = "userCache")
public class User {

    static final int MAX_SSH_KEYS = 50;

    @AggregateIdentifier
    private String userId;
    private String name;
    private String email;
    private Set<String> roles = Set.of();
    private final Set<String> identityProviderTeams = new TreeSet<>();
    private final Set<String> ownerTeams = new TreeSet<>();
    private boolean suspended;
    /** Key id to fingerprint. */
    private final Map<String, String> sshKeys = new HashMap<>();

    protected User() {
    }

    @CommandHandler
    public User(RegisterUserCommand command) {
        IdentityRules.requireUserId(command.userId());
        IdentityRules.requireProfile(command.name(), command.email());
        Set<String> teams = sorted(command.teams());
        IdentityRules.requireTeams(teams);
        apply(new UserRegisteredEvent(command.userId(), command.name(), command.email(), sorted(command.roles()), teams,
                Objects.requireNonNull(command.source(), "source"), command.actor()));
    }

    @CommandHandler
    public void handle(SyncUserCommand command) {
        if (suspended) {
            throw DomainRuleViolation.conflict("user " + userId + " is suspended; an owner can activate them again");
        }
        IdentityRules.requireProfile(command.name(), command.email());
        Set<String> roles = sorted(command.roles());
        if (!Objects.equals(name, command.name()) || !Objects.equals(email, command.email())
                || !this.roles.equals(roles)) {
            apply(new UserProfileChangedEvent(userId, command.name(), command.email(), roles, command.actor()));
        }
        Set<String> teams = sorted(command.teams());
        IdentityRules.requireTeams(teams);
        if (!teams.equals(identityProviderTeams)) {
            Set<String> added = new TreeSet<>(teams);
            added.removeAll(identityProviderTeams);
            Set<String> removed = new TreeSet<>(identityProviderTeams);
            removed.removeAll(teams);
            apply(new UserTeamsChangedEvent(userId, union(ownerTeams, teams), added, removed, IdentitySource.OIDC,
                    command.actor()));
        }
    }

    @CommandHandler
    public void handle(ChangeTeamMembershipCommand command) {
        IdentityRules.requireTeamName(command.team());
        if (command.member() == ownerTeams.contains(command.team())) {
            return; // already so: setting a team's members again changes nothing
        }
        Set<String> after = new TreeSet<>(ownerTeams);
        if (command.member()) {
            if (teams().size() >= IdentityRules.MAX_TEAMS) {
                throw DomainRuleViolation.conflict("user " + userId + " is already in " + IdentityRules.MAX_TEAMS
                        + " teams, the most a user can be in");
            }
            after.add(command.team());
        } else {
            after.remove(command.team());
        }
        Set<String> change = Set.of(command.team());
        apply(new UserTeamsChangedEvent(userId, union(after, identityProviderTeams),
                command.member() ? change : Set.of(), command.member() ? Set.of() : change, IdentitySource.OWNER,
                command.actor()));
    }

    @CommandHandler
    public void handle(SuspendUserCommand command) {
        if (suspended) {
            throw DomainRuleViolation.conflict("user " + userId + " is already suspended");
        }
        apply(new UserSuspendedEvent(userId, command.actor()));
    }

    @CommandHandler
    public void handle(ActivateUserCommand command) {
        if (!suspended) {
            throw DomainRuleViolation.conflict("user " + userId + " is not suspended");
        }
        apply(new UserActivatedEvent(userId, command.actor()));
    }

    @CommandHandler
    public void handle(AddSshKeyCommand command) {
        if (sshKeys.containsValue(command.fingerprint())) {
            throw DomainRuleViolation.conflict("this key (" + command.fingerprint() + ") is already registered for user "
                    + userId);
        }
        if (sshKeys.size() >= MAX_SSH_KEYS) {
            throw DomainRuleViolation.conflict("user " + userId + " already has " + MAX_SSH_KEYS
                    + " SSH keys, the most a user can have; delete one first");
        }
        if (command.name() == null || command.name().isBlank() || command.name().length() > 100) {
            throw DomainRuleViolation.invalid("'name' of an SSH key needs 1-100 characters");
        }
        apply(new SshKeyAddedEvent(userId, command.keyId(), command.name(), command.type(), command.bits(),
                command.fingerprint(), command.publicKey(), command.actor()));
    }

    @CommandHandler
    public void handle(RemoveSshKeyCommand command) {
        String fingerprint = sshKeys.get(command.keyId());
        if (fingerprint == null) {
            throw DomainRuleViolation.notFound("user " + userId + " has no SSH key with this id");
        }
        apply(new SshKeyRemovedEvent(userId, command.keyId(), fingerprint, command.actor()));
    }

    @EventSourcingHandler
    void on(UserRegisteredEvent event) {
        userId = event.userId();
        name = event.name();
        email = event.email();
        roles = Set.copyOf(event.roles());
        (event.source() == IdentitySource.OIDC ? identityProviderTeams : ownerTeams).addAll(event.teams());
    }

    @EventSourcingHandler
    void on(UserProfileChangedEvent event) {
        name = event.name();
        email = event.email();
        roles = Set.copyOf(event.roles());
    }

    @EventSourcingHandler
    void on(UserTeamsChangedEvent event) {
        Set<String> teams = event.source() == IdentitySource.OIDC ? identityProviderTeams : ownerTeams;
        teams.addAll(event.added());
        teams.removeAll(event.removed());
    }

    @EventSourcingHandler
    void on(UserSuspendedEvent event) {
        suspended = true;
    }

    @EventSourcingHandler
    void on(UserActivatedEvent event) {
        suspended = false;
    }

    @EventSourcingHandler
    void on(SshKeyAddedEvent event) {
        sshKeys.put(event.keyId(), event.fingerprint());
    }

    @EventSourcingHandler
    void on(SshKeyRemovedEvent event) {
        sshKeys.remove(event.keyId());
    }

    private Set<String> teams() {
        return union(ownerTeams, identityProviderTeams);
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    private static Set<String> sorted(Set<String> values) {
        return values == null ? new TreeSet<>() : new TreeSet<>(values);
    }
}
