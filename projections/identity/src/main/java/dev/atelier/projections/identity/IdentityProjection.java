package dev.atelier.projections.identity;

import dev.atelier.domain.identity.SshKeyAddedEvent;
import dev.atelier.domain.identity.SshKeyRemovedEvent;
import dev.atelier.domain.identity.TeamCreatedEvent;
import dev.atelier.domain.identity.UserActivatedEvent;
import dev.atelier.domain.identity.UserProfileChangedEvent;
import dev.atelier.domain.identity.UserRegisteredEvent;
import dev.atelier.domain.identity.UserSuspendedEvent;
import dev.atelier.domain.identity.UserTeamsChangedEvent;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.Timestamp;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;

/**
 * Users, teams, memberships and SSH keys. A subscribing processor ({@value #PROCESSING_GROUP}, see application.yml):
 * it runs in the command's transaction, so the security layer, which reads a user's status on every request, sees a
 * suspension the moment the call that made it returns, on every node (they share the database).
 */
@Component
@ProcessingGroup(IdentityProjection.PROCESSING_GROUP)
public class IdentityProjection {

    public static final String PROCESSING_GROUP = "identity";

    private final JdbcTemplate jdbc;

    public IdentityProjection(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @EventHandler
    void on(UserRegisteredEvent event, @Timestamp Instant time) {
        jdbc.update("""
                INSERT INTO identity_user (id, name, email, roles, source, suspended, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, FALSE, ?, ?)""",
                event.userId(), event.name(), event.email(), IdentityReadModel.join(event.roles()),
                event.source().name(), ts(time), ts(time));
        for (String team : event.teams()) {
            jdbc.update("INSERT INTO identity_user_team (user_id, team, source) VALUES (?, ?, ?)", event.userId(), team,
                    event.source().name());
        }
    }

    @EventHandler
    void on(UserProfileChangedEvent event, @Timestamp Instant time) {
        jdbc.update("UPDATE identity_user SET name = ?, email = ?, roles = ?, updated_at = ? WHERE id = ?",
                event.name(), event.email(), IdentityReadModel.join(event.roles()), ts(time), event.userId());
    }

    @EventHandler
    void on(UserTeamsChangedEvent event, @Timestamp Instant time) {
        for (String team : new TreeSet<>(event.removed())) {
            jdbc.update("DELETE FROM identity_user_team WHERE user_id = ? AND team = ? AND source = ?", event.userId(),
                    team, event.source().name());
        }
        for (String team : new TreeSet<>(event.added())) {
            jdbc.update("""
                    INSERT INTO identity_user_team (user_id, team, source) VALUES (?, ?, ?)
                    ON CONFLICT DO NOTHING""", event.userId(), team, event.source().name());
        }
        touch(event.userId(), time);
    }

    @EventHandler
    void on(UserSuspendedEvent event, @Timestamp Instant time) {
        jdbc.update("UPDATE identity_user SET suspended = TRUE, updated_at = ? WHERE id = ?", ts(time), event.userId());
    }

    @EventHandler
    void on(UserActivatedEvent event, @Timestamp Instant time) {
        jdbc.update("UPDATE identity_user SET suspended = FALSE, updated_at = ? WHERE id = ?", ts(time), event.userId());
    }

    @EventHandler
    void on(SshKeyAddedEvent event, @Timestamp Instant time) {
        jdbc.update("""
                INSERT INTO identity_ssh_key (id, user_id, name, type, bits, fingerprint, public_key, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                event.keyId(), event.userId(), event.name(), event.type(), event.bits(), event.fingerprint(),
                event.publicKey(), ts(time));
    }

    @EventHandler
    void on(SshKeyRemovedEvent event) {
        jdbc.update("DELETE FROM identity_ssh_key WHERE id = ? AND user_id = ?", event.keyId(), event.userId());
    }

    @EventHandler
    void on(TeamCreatedEvent event, @Timestamp Instant time) {
        jdbc.update("""
                INSERT INTO identity_team (name, description, source, created_by, created_at) VALUES (?, ?, ?, ?, ?)""",
                event.name(), event.description(), event.source().name(),
                event.actor() == null ? "atelier" : event.actor().id(), ts(time));
    }

    @ResetHandler
    void reset() {
        for (String table : Set.of("identity_ssh_key", "identity_user_team", "identity_team", "identity_user")) {
            jdbc.update("DELETE FROM " + table);
        }
    }

    private void touch(String userId, Instant time) {
        jdbc.update("UPDATE identity_user SET updated_at = ? WHERE id = ?", ts(time), userId);
    }

    private static java.sql.Timestamp ts(Instant time) {
        return java.sql.Timestamp.from(time);
    }
}
