package dev.atelier.security;

import dev.atelier.config.AtelierProperties;
import dev.atelier.domain.shared.Actor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Bearer API tokens, stored as SHA-256 only. Each has an expiry (tokens from before expiries existed have none), a time
 * of last use ({@link TokenUsage}, written in batches) and, for scoped tokens, what it may touch. The bootstrap admin
 * token is a row too ({@link #BOOTSTRAP_ID}): from {@code ATELIER_ADMIN_TOKEN}, or generated on first start, printed
 * once to standard output (not to the log) and its hash kept under the data dir. Once rotated or retired through the
 * API, the row is no longer overwritten from there on start.
 */
@Component
public class ApiTokens {

    static final String ADMIN_SUBJECT = "admin";
    /** The bootstrap admin token's id; the API also takes {@code bootstrap} for it. */
    public static final UUID BOOTSTRAP_ID = UUID.fromString("00000000-0000-4000-8000-000000000001");
    public static final String KIND_API = "api";
    public static final String KIND_SCOPED = "scoped";
    public static final String KIND_BOOTSTRAP = "bootstrap";
    private static final Logger log = LoggerFactory.getLogger(ApiTokens.class);
    private static final String COLUMNS = """
            t.id, t.name, t.subject, t.roles, t.kind, t.created_at, t.created_by, t.expires_at, t.last_used_at,
            t.revoked_at, t.scope_workspaces, t.scope_agent_workspaces""";

    private final JdbcTemplate jdbc;
    private final TokenUsage usage;

    @Autowired
    public ApiTokens(JdbcTemplate jdbc, AtelierProperties properties, TokenUsage usage) {
        this(jdbc, properties, usage, System.out);
    }

    ApiTokens(JdbcTemplate jdbc, AtelierProperties properties, TokenUsage usage, PrintStream console) {
        this.jdbc = jdbc;
        this.usage = usage;
        bootstrapAdmin(properties, console);
    }

    /** A stored token, never with its secret. */
    public record TokenRecord(UUID id, String name, String subject, List<String> roles, String kind, Instant createdAt,
                              String createdBy, Instant expiresAt, Instant lastUsedAt, Instant revokedAt,
                              TokenScope scope) {

        public boolean active(Instant now) {
            return revokedAt == null && (expiresAt == null || expiresAt.isAfter(now));
        }
    }

    /** What checking a presented token found: a caller, or why the token does not count. */
    public sealed interface Check permits Accepted, Refused {
    }

    public record Accepted(AtelierPrincipal principal) implements Check {
    }

    /** A token that exists but does not work (expired, or its user is suspended); {@code reason} may be shown. */
    public record Refused(String reason) implements Check {
    }

    /** @return empty when no such token exists (or it was revoked) */
    public Optional<Check> authenticate(String token) {
        if (token == null || token.isBlank() || token.length() > 200) {
            return Optional.empty();
        }
        Instant now = Instant.now();
        return jdbc.query("SELECT " + COLUMNS + ", u.suspended FROM api_token t LEFT JOIN identity_user u ON u.id = t.subject"
                        + " WHERE t.token_hash = ? AND t.revoked_at IS NULL",
                (rs, i) -> check(record(rs), rs.getBoolean("suspended"), now), TokenHashing.sha256(token))
                .stream().findFirst();
    }

    private Check check(TokenRecord token, boolean suspended, Instant now) {
        if (token.expiresAt() != null && !token.expiresAt().isAfter(now)) {
            return new Refused("the API token expired at " + token.expiresAt() + "; create a new one");
        }
        if (suspended && !KIND_BOOTSTRAP.equals(token.kind())) {
            return new Refused("user " + token.subject() + " is suspended; an owner can activate them again");
        }
        usage.used(token.id(), now);
        Set<Role> roles = token.roles().stream().map(Role::parse).collect(Collectors.toUnmodifiableSet());
        return new Accepted(new AtelierPrincipal(token.subject(), Actor.ActorType.API_TOKEN, roles,
                token.id().toString(), token.scope(), token.expiresAt()));
    }

    /** @return the new token with its secret; the secret is not stored and cannot be shown again */
    public IssuedToken issue(String name, String subject, Set<Role> roles, String createdBy, Instant expiresAt,
                             TokenScope scope) {
        String token = TokenHashing.newToken();
        UUID id = UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        jdbc.update("""
                        INSERT INTO api_token (id, name, subject, roles, token_hash, created_at, created_by, kind, expires_at,
                                               scope_workspaces, scope_agent_workspaces)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                id, name, subject, join(roles), TokenHashing.sha256(token), Timestamp.from(now), createdBy,
                scope == null ? KIND_API : KIND_SCOPED, Timestamp.from(expiresAt),
                scope == null || scope.workspaces().isEmpty() ? null : String.join(",", scope.workspaces().stream().sorted().toList()),
                scope != null && scope.agentWorkspaces());
        return new IssuedToken(id.toString(), name, subject, roles.stream().map(Role::id).sorted().toList(), token, now,
                expiresAt, scope);
    }

    public record IssuedToken(String id, String name, String subject, List<String> roles, String token,
                              Instant createdAt, Instant expiresAt, TokenScope scope) {
    }

    public Optional<TokenRecord> find(UUID id) {
        return jdbc.query("SELECT " + COLUMNS + " FROM api_token t WHERE t.id = ?", (rs, i) -> record(rs), id)
                .stream().findFirst();
    }

    /** Tokens that work now, of one subject or (null) of everybody, newest first; last use merged from memory. */
    public List<TokenRecord> active(String subject) {
        Timestamp now = Timestamp.from(Instant.now());
        String where = " WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)";
        return subject == null
                ? jdbc.query("SELECT " + COLUMNS + " FROM api_token t" + where + " ORDER BY t.created_at DESC, t.id",
                (rs, i) -> record(rs), now)
                : jdbc.query("SELECT " + COLUMNS + " FROM api_token t" + where + " AND t.subject = ?"
                + " ORDER BY t.created_at DESC, t.id", (rs, i) -> record(rs), now, subject);
    }

    public boolean revoke(UUID id) {
        return jdbc.update("UPDATE api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                Timestamp.from(Instant.now()), id) == 1;
    }

    /** A new secret for a token that works now; the old secret stops working at once. Empty when none such exists. */
    public Optional<String> rotate(UUID id) {
        String token = TokenHashing.newToken();
        int changed = jdbc.update("""
                UPDATE api_token SET token_hash = ?, rotated_at = ?
                 WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)""",
                TokenHashing.sha256(token), Timestamp.from(Instant.now()), id, Timestamp.from(Instant.now()));
        return changed == 1 ? Optional.of(token) : Optional.empty();
    }

    /** Ids of tokens that expired or were revoked in {@code [from, to)}: their live streams end. */
    public List<UUID> endedBetween(Instant from, Instant to) {
        Timestamp a = Timestamp.from(from);
        Timestamp b = Timestamp.from(to);
        return jdbc.queryForList("SELECT id FROM api_token WHERE (expires_at >= ? AND expires_at < ?)"
                + " OR (revoked_at >= ? AND revoked_at < ?)", UUID.class, a, b, a, b);
    }

    private TokenRecord record(ResultSet rs) throws SQLException {
        UUID id = rs.getObject("id", UUID.class);
        Instant lastUsed = instant(rs, "last_used_at");
        Instant unwritten = usage.unwritten(id);
        if (unwritten != null && (lastUsed == null || unwritten.isAfter(lastUsed))) {
            lastUsed = unwritten;
        }
        String workspaces = rs.getString("scope_workspaces");
        boolean agentWorkspaces = rs.getBoolean("scope_agent_workspaces");
        TokenScope scope = KIND_SCOPED.equals(rs.getString("kind"))
                ? new TokenScope(workspaces == null ? Set.of() : Set.of(workspaces.split(",")), agentWorkspaces) : null;
        return new TokenRecord(id, rs.getString("name"), rs.getString("subject"),
                Arrays.stream(rs.getString("roles").split(",")).filter(s -> !s.isBlank()).sorted().toList(),
                rs.getString("kind"), instant(rs, "created_at"), rs.getString("created_by"), instant(rs, "expires_at"),
                lastUsed, instant(rs, "revoked_at"), scope);
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp ts = rs.getTimestamp(column);
        return ts == null ? null : ts.toInstant();
    }

    private static String join(Set<Role> roles) {
        return roles.stream().map(Role::id).sorted().collect(Collectors.joining(","));
    }

    /**
     * The bootstrap row follows {@code ATELIER_ADMIN_TOKEN} (or the generated token's hash file) on every start, unless
     * it was rotated or retired through the API: then the database has the last word (docs/security.md says how to
     * take it back).
     */
    private void bootstrapAdmin(AtelierProperties properties, PrintStream console) {
        List<Boolean> managed = jdbc.queryForList(
                "SELECT rotated_at IS NOT NULL OR revoked_at IS NOT NULL FROM api_token WHERE id = ?", Boolean.class,
                BOOTSTRAP_ID);
        if (!managed.isEmpty() && managed.get(0)) {
            if (properties.adminToken() != null && !properties.adminToken().isBlank()) {
                log.warn("ATELIER_ADMIN_TOKEN is ignored: the bootstrap admin token was rotated or retired through the API");
            }
            return;
        }
        String hash = configuredAdminHash(properties, console);
        jdbc.update("""
                INSERT INTO api_token (id, name, subject, roles, token_hash, created_at, created_by, kind)
                VALUES (?, 'bootstrap admin token', ?, 'owner', ?, ?, 'atelier', 'bootstrap')
                ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash""",
                BOOTSTRAP_ID, ADMIN_SUBJECT, hash, Timestamp.from(Instant.now()));
    }

    private static String configuredAdminHash(AtelierProperties properties, PrintStream console) {
        Path file = properties.dataDir().resolve("admin-token.sha256");
        try {
            if (properties.adminToken() != null && !properties.adminToken().isBlank()) {
                return TokenHashing.sha256(properties.adminToken());
            }
            if (Files.exists(file)) {
                return Files.readString(file).trim();
            }
            String token = TokenHashing.newToken();
            Files.createDirectories(file.getParent());
            Files.writeString(file, TokenHashing.sha256(token) + "\n");
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            console.println();
            console.println("=====================================================================");
            console.println(" Atelier generated the bootstrap admin API token. It is shown ONCE:");
            console.println();
            console.println("   " + token);
            console.println();
            console.println(" Only its SHA-256 is kept (" + file + ").");
            console.println(" Set ATELIER_ADMIN_TOKEN to choose your own, or delete that file to get a new one.");
            console.println("=====================================================================");
            console.println();
            log.info("bootstrap admin token generated; its hash is stored in {}", file);
            return TokenHashing.sha256(token);
        } catch (IOException e) {
            throw new IllegalStateException("cannot store the admin token hash in " + file + ": " + e.getMessage(), e);
        }
    }
}
