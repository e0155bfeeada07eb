package dev.atelier.projections.identity;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Reads of the identity read model. The security layer calls {@link #user} on every request of a signed-in user, so
 * it is one indexed query; everything else is for the API.
 */
@Component
public class IdentityReadModel {

    private final JdbcTemplate jdbc;

    public IdentityReadModel(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** A user: roles as last synced or given, teams from both sources, and when they last logged in. */
    public record UserRecord(String id, String name, String email, List<String> roles, List<String> teams,
                             String source, boolean suspended, Instant createdAt, Instant lastLoginAt) {
    }

    public record TeamRecord(String name, String description, String source, List<String> members, String createdBy,
                             Instant createdAt) {
    }

    public record SshKeyRecord(String id, String name, String type, int bits, String fingerprint, String publicKey,
                               Instant createdAt) {
    }

    private static final String USER_SELECT = """
            SELECT u.id, u.name, u.email, u.roles, u.source, u.suspended, u.created_at, l.last_login_at,
                   (SELECT string_agg(DISTINCT t.team, ',' ORDER BY t.team) FROM identity_user_team t
                     WHERE t.user_id = u.id) AS teams
              FROM identity_user u LEFT JOIN identity_login l ON l.user_id = u.id""";

    public Optional<UserRecord> user(String id) {
        return jdbc.query(USER_SELECT + " WHERE u.id = ?", IdentityReadModel::user, id).stream().findFirst();
    }

    /** Users ordered by id, {@code limit} of them after {@code after} (a cursor: the last id of the previous page). */
    public List<UserRecord> users(int limit, String after) {
        return after == null
                ? jdbc.query(USER_SELECT + " ORDER BY u.id LIMIT ?", IdentityReadModel::user, limit)
                : jdbc.query(USER_SELECT + " WHERE u.id > ? ORDER BY u.id LIMIT ?", IdentityReadModel::user, after, limit);
    }

    /** Which of these ids are not users. */
    public Set<String> unknownUsers(Collection<String> ids) {
        Set<String> unknown = new TreeSet<>(ids);
        if (!ids.isEmpty()) {
            unknown.removeAll(jdbc.queryForList("SELECT id FROM identity_user WHERE id = ANY (?)", String.class,
                    (Object) ids.toArray(String[]::new)));
        }
        return unknown;
    }

    /** Whether an active user that came from the identity provider holds the owner role (the admin token can go). */
    public boolean activeOidcOwnerExists() {
        return Boolean.TRUE.equals(jdbc.queryForObject("""
                SELECT EXISTS (SELECT 1 FROM identity_user WHERE source = 'OIDC' AND NOT suspended
                               AND (',' || roles || ',') LIKE '%,owner,%')""", Boolean.class));
    }

    /** Remembered once per login (not per request); kept apart from the event-built tables. */
    public void recordLogin(String userId, Instant at) {
        jdbc.update("""
                INSERT INTO identity_login (user_id, last_login_at) VALUES (?, ?)
                ON CONFLICT (user_id) DO UPDATE SET last_login_at = EXCLUDED.last_login_at""", userId, Timestamp.from(at));
    }

    /** Users suspended now whose record changed since {@code since} (their live streams end on every node). */
    public List<String> suspendedSince(Instant since) {
        return jdbc.queryForList("SELECT id FROM identity_user WHERE suspended AND updated_at >= ?", String.class,
                Timestamp.from(since));
    }

    public Optional<TeamRecord> team(String name) {
        return teams(name).stream().findFirst();
    }

    public boolean teamExists(String name) {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM identity_team WHERE name = ?)",
                Boolean.class, name));
    }

    /** Which of these team names do not exist. */
    public Set<String> unknownTeams(Collection<String> names) {
        Set<String> unknown = new TreeSet<>(names);
        if (!names.isEmpty()) {
            unknown.removeAll(jdbc.queryForList("SELECT name FROM identity_team WHERE name = ANY (?)", String.class,
                    (Object) names.toArray(String[]::new)));
        }
        return unknown;
    }

    public boolean isMember(String userId, String team) {
        return Boolean.TRUE.equals(jdbc.queryForObject(
                "SELECT EXISTS (SELECT 1 FROM identity_user_team WHERE user_id = ? AND team = ?)", Boolean.class,
                userId, team));
    }

    /** Members that an owner put into the team (not the identity provider's). */
    public Set<String> ownerManagedMembers(String team) {
        return new TreeSet<>(jdbc.queryForList(
                "SELECT user_id FROM identity_user_team WHERE team = ? AND source = 'OWNER'", String.class, team));
    }

    /** Every team, or the one named, with its members (from both sources). */
    public List<TeamRecord> teams(String only) {
        String sql = """
                SELECT t.name, t.description, t.source, t.created_by, t.created_at,
                       (SELECT string_agg(DISTINCT m.user_id, ',' ORDER BY m.user_id) FROM identity_user_team m
                         WHERE m.team = t.name) AS members
                  FROM identity_team t""";
        return only == null
                ? jdbc.query(sql + " ORDER BY t.name", IdentityReadModel::team)
                : jdbc.query(sql + " WHERE t.name = ?", IdentityReadModel::team, only);
    }

    public List<SshKeyRecord> sshKeys(String userId) {
        return jdbc.query("""
                SELECT id, name, type, bits, fingerprint, public_key, created_at FROM identity_ssh_key
                 WHERE user_id = ? ORDER BY created_at, id""", (rs, i) -> new SshKeyRecord(rs.getString("id"),
                rs.getString("name"), rs.getString("type"), rs.getInt("bits"), rs.getString("fingerprint"),
                rs.getString("public_key"), instant(rs, "created_at")), userId);
    }

    /** The user a key belongs to (the SSH gateway's question), if any. */
    public Optional<String> sshKeyOwner(String fingerprint) {
        return jdbc.queryForList("SELECT user_id FROM identity_ssh_key WHERE fingerprint = ?", String.class, fingerprint)
                .stream().findFirst();
    }


    static String join(Collection<String> values) {
        return values == null ? "" : values.stream().sorted().collect(Collectors.joining(","));
    }

    private static List<String> split(String joined) {
        return joined == null || joined.isEmpty() ? List.of() : new ArrayList<>(Arrays.asList(joined.split(",")));
    }

    private static UserRecord user(ResultSet rs, int row) throws SQLException {
        return new UserRecord(rs.getString("id"), rs.getString("name"), rs.getString("email"),
                split(rs.getString("roles")), split(rs.getString("teams")), rs.getString("source"),
                rs.getBoolean("suspended"), instant(rs, "created_at"), instant(rs, "last_login_at"));
    }

    private static TeamRecord team(ResultSet rs, int row) throws SQLException {
        return new TeamRecord(rs.getString("name"), rs.getString("description"), rs.getString("source"),
                split(rs.getString("members")), rs.getString("created_by"), instant(rs, "created_at"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp ts = rs.getTimestamp(column);
        return ts == null ? null : ts.toInstant();
    }
}
