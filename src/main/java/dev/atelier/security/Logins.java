package dev.atelier.security;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.domain.identity.CreateTeamCommand;
import dev.atelier.domain.identity.IdentitySource;
import dev.atelier.domain.identity.RegisterUserCommand;
import dev.atelier.domain.identity.SyncUserCommand;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.projections.identity.IdentityReadModel.UserRecord;
import dev.atelier.projections.identity.IdentityReadModel;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;

/**
 * A login through the identity provider: the browser's, or the first use of a bearer JWT. The user appears on the
 * first one; later ones sync name, e-mail, roles and the provider's teams (teams the claims name for the first time are
 * created). Only what changed becomes an event. A suspended user's login is refused. Logins, refused ones too, are
 * recorded in the audit trail with the session or token that logged in. Blocks on the database: call it off the event
 * loop.
 */
@Component
public class Logins {

    private final IdentityReadModel identities;
    private final CommandGateway commands;
    private final AuditRecorder audit;

    public Logins(IdentityReadModel identities, CommandGateway commands, AuditRecorder audit) {
        this.identities = identities;
        this.commands = commands;
        this.audit = audit;
    }

    /** A refused login, with a reason that may be shown to the caller. */
    public static final class Refused extends RuntimeException {
        public Refused(String reason) {
            super(reason);
        }
    }

    /**
     * @param method       {@code session} or {@code bearer-jwt}
     * @param credentialId the session or token that logs in (never a secret)
     * @param metadata     the request's metadata (client address, user agent, request id)
     */
    public UserRecord login(ExternalIdentity identity, String method, String credentialId, Map<String, Object> metadata) {
        Map<String, Object> meta = new LinkedHashMap<>(metadata);
        meta.put("actorId", identity.subject());
        meta.put("actorType", Actor.ActorType.USER.name());
        meta.put("tokenId", credentialId);
        Actor actor = Actor.user(identity.subject());
        UserRecord known = identities.user(identity.subject()).orElse(null);
        if (known != null && known.suspended()) {
            record(identity.subject(), AuditEntry.DENIED, 401, "user is suspended", method, credentialId, meta);
            throw new Refused("user " + identity.subject() + " is suspended; an owner can activate them again");
        }
        createMissingTeams(identity.teams(), actor, meta);
        Set<String> roles = identity.roles().stream().map(Role::id).collect(Collectors.toCollection(TreeSet::new));
        try {
            if (known == null) {
                try {
                    send(new RegisterUserCommand(identity.subject(), identity.name(), identity.email(), roles,
                            identity.teams(), IdentitySource.OIDC, actor), meta);
                } catch (AggregateStreamCreationException | ConcurrencyException concurrentFirstLogin) {
                    send(new SyncUserCommand(identity.subject(), identity.name(), identity.email(), roles,
                            identity.teams(), actor), meta);
                }
            } else if (changed(known, identity, roles)) {
                send(new SyncUserCommand(identity.subject(), identity.name(), identity.email(), roles, identity.teams(),
                        actor), meta);
            }
        } catch (DomainRuleViolation refused) {
            record(identity.subject(), AuditEntry.DENIED, 401, refused.getMessage(), method, credentialId, meta);
            throw new Refused(refused.getMessage());
        }
        Instant now = Instant.now();
        identities.recordLogin(identity.subject(), now);
        record(identity.subject(), AuditEntry.SUCCESS, null, null, method, credentialId, meta);
        return identities.user(identity.subject()).orElseThrow();
    }

    /** A login that failed before Atelier knew who it was (the identity provider said no, or the token was bad). */
    public void failed(String reason, String method, Map<String, Object> metadata) {
        Map<String, Object> meta = new LinkedHashMap<>(metadata);
        meta.putIfAbsent("actorId", "anonymous");
        meta.putIfAbsent("actorType", "ANONYMOUS");
        record(null, AuditEntry.DENIED, 401, reason, method, null, meta);
    }

    private static boolean changed(UserRecord known, ExternalIdentity identity, Set<String> roles) {
        // Teams the read model shows include owner-managed ones; the aggregate decides exactly, this only saves a
        // command when nothing can have changed.
        return !java.util.Objects.equals(known.name(), identity.name())
                || !java.util.Objects.equals(known.email(), identity.email())
                || !new TreeSet<>(known.roles()).equals(roles)
                || !new HashSet<>(known.teams()).containsAll(identity.teams())
                || known.teams().size() != identity.teams().size();
    }

    private void createMissingTeams(Set<String> teams, Actor actor, Map<String, Object> meta) {
        for (String team : identities.unknownTeams(teams)) {
            try {
                send(new CreateTeamCommand(team, null, IdentitySource.OIDC, actor), meta);
            } catch (DomainRuleViolation | AggregateStreamCreationException | ConcurrencyException alreadyCreated) {
                // another login created it at the same moment
            }
        }
    }

    private void record(String userId, String outcome, Integer status, String error, String method, String credentialId,
                        Map<String, Object> meta) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("method", method);
        audit.record(new AuditRecordedEvent("login", AuditEntry.COMPLETED, "user", userId, outcome, status, error,
                details), meta);
    }

    private void send(Object command, Map<String, Object> meta) {
        try {
            commands.sendAndWait(GenericCommandMessage.asCommandMessage(command).andMetaData(meta));
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }
}
