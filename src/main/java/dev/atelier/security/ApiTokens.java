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
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Bearer API tokens. The bootstrap admin token comes from {@code ATELIER_ADMIN_TOKEN}, or is generated on first
 * start, printed once to standard output (not to the log) and kept only as a SHA-256 under the data dir.
 * Other tokens are created through the API and stored hashed in the database.
 */
@Component
public class ApiTokens {

    static final String ADMIN_SUBJECT = "admin";
    private static final Logger log = LoggerFactory.getLogger(ApiTokens.class);

    private final JdbcTemplate jdbc;
    private final String adminHash;

    @Autowired
    public ApiTokens(JdbcTemplate jdbc, AtelierProperties properties) {
        this(jdbc, properties, System.out);
    }

    ApiTokens(JdbcTemplate jdbc, AtelierProperties properties, PrintStream console) {
        this.jdbc = jdbc;
        this.adminHash = bootstrapAdmin(properties, console);
    }

    public Optional<AtelierPrincipal> authenticate(String token) {
        if (token == null || token.isBlank() || token.length() > 200) {
            return Optional.empty();
        }
        String hash = TokenHashing.sha256(token);
        if (TokenHashing.sameHash(hash, adminHash)) {
            return Optional.of(new AtelierPrincipal(ADMIN_SUBJECT, Actor.ActorType.API_TOKEN, Set.of(Role.OWNER), "bootstrap"));
        }
        return jdbc.query("SELECT id, subject, roles FROM api_token WHERE token_hash = ? AND revoked_at IS NULL",
                (rs, i) -> new AtelierPrincipal(rs.getString("subject"), Actor.ActorType.API_TOKEN,
                        Role.parseAll(rs.getString("roles")), rs.getString("id")), hash).stream().findFirst();
    }

    /** @return the new token's secret; it is not stored and cannot be shown again */
    public IssuedToken issue(String name, String subject, Set<Role> roles, String createdBy) {
        String token = TokenHashing.newToken();
        UUID id = UUID.randomUUID();
        Instant now = Instant.now();
        jdbc.update("INSERT INTO api_token (id, name, subject, roles, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                id, name, subject, roles.stream().map(Role::id).sorted().collect(Collectors.joining(",")),
                TokenHashing.sha256(token), Timestamp.from(now), createdBy);
        return new IssuedToken(id.toString(), name, subject, roles.stream().map(Role::id).sorted().toList(), token, now);
    }

    public boolean revoke(String id) {
        try {
            return jdbc.update("UPDATE api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    Timestamp.from(Instant.now()), UUID.fromString(id)) == 1;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public record IssuedToken(String id, String name, String subject, List<String> roles, String token, Instant createdAt) {
    }

    private static String bootstrapAdmin(AtelierProperties properties, PrintStream console) {
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
