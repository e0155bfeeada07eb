package dev.atelier.security;

import com.zaxxer.hikari.HikariDataSource;
import dev.atelier.config.AtelierProperties;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * API tokens on a real (migrated) database without the engine: the bootstrap row follows ATELIER_ADMIN_TOKEN until it
 * is rotated through the API, expired tokens and suspended users are refused with a reason, and the time of last use
 * is kept in memory and written in one batch, not per request.
 */
class ApiTokensIT {

    private static HikariDataSource db;
    private static JdbcTemplate jdbc;

    @TempDir
    Path data;

    @BeforeAll
    static void database() {
        db = TestDatabase.migrated(2);
        jdbc = new JdbcTemplate(db);
    }

    @AfterAll
    static void close() {
        db.close();
    }

    private ApiTokens start(String adminToken, TokenUsage usage, PrintStream console) {
        return new ApiTokens(jdbc, new AtelierProperties(data, new AtelierProperties.Db(null, null, null, 0), adminToken),
                usage, console);
    }

    private static boolean accepted(ApiTokens tokens, String secret) {
        return tokens.authenticate(secret).filter(c -> c instanceof ApiTokens.Accepted).isPresent();
    }

    @Test
    void theBootstrapTokenFollowsTheSettingUntilRotatedAndAGeneratedOneIsPrintedOnce() {
        TokenUsage usage = new TokenUsage(jdbc);
        assertThat(accepted(start("first", usage, System.out), "first")).isTrue();
        ApiTokens restarted = start("second", usage, System.out);
        assertThat(accepted(restarted, "second")).isTrue();
        assertThat(restarted.authenticate("first")).isEmpty();

        String rotated = restarted.rotate(ApiTokens.BOOTSTRAP_ID).orElseThrow();
        ApiTokens afterRotation = start("second", usage, System.out);
        assertThat(afterRotation.authenticate("second")).isEmpty();
        assertThat(accepted(afterRotation, rotated)).isTrue();

        // The documented way back: delete the row, and the next start takes the setting again.
        jdbc.update("DELETE FROM api_token WHERE id = ?", ApiTokens.BOOTSTRAP_ID);
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        start(null, usage, new PrintStream(printed, true, StandardCharsets.UTF_8));
        String console = printed.toString(StandardCharsets.UTF_8);
        String generated = console.lines().map(String::trim).filter(l -> l.startsWith("atl_")).findFirst().orElseThrow();
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        ApiTokens second = start(null, usage, new PrintStream(again, true, StandardCharsets.UTF_8));
        assertThat(again.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(accepted(second, generated)).isTrue();
    }

    @Test
    void expiredTokensAndSuspendedUsersAreRefusedWithAReasonAndUseIsWrittenInBatches() {
        TokenUsage usage = new TokenUsage(jdbc);
        ApiTokens tokens = start("admin-secret", usage, System.out);
        String subject = "u-" + UUID.randomUUID().toString().substring(0, 8);
        ApiTokens.IssuedToken live = tokens.issue("cli", subject, Set.of(Role.MEMBER), "test",
                Instant.now().plusSeconds(3600), null);
        ApiTokens.IssuedToken old = tokens.issue("old", subject, Set.of(Role.MEMBER), "test",
                Instant.now().plusSeconds(3600), null);
        jdbc.update("UPDATE api_token SET expires_at = ? WHERE id = ?::uuid", Timestamp.from(Instant.now().minusSeconds(5)),
                old.id());
        assertThat(tokens.authenticate(old.token()).orElseThrow())
                .isInstanceOfSatisfying(ApiTokens.Refused.class, r -> assertThat(r.reason()).contains("expired at"));

        for (int i = 0; i < 5; i++) {
            assertThat(accepted(tokens, live.token())).isTrue();
        }
        UUID id = UUID.fromString(live.id());
        assertThat(jdbc.queryForObject("SELECT last_used_at FROM api_token WHERE id = ?", Timestamp.class, id)).isNull();
        assertThat(tokens.active(subject)).singleElement().satisfies(t -> assertThat(t.lastUsedAt()).isNotNull());
        usage.flush();
        assertThat(jdbc.queryForObject("SELECT last_used_at FROM api_token WHERE id = ?", Timestamp.class, id)).isNotNull();

        jdbc.update("""
                INSERT INTO identity_user (id, roles, source, suspended, created_at, updated_at)
                VALUES (?, 'member', 'OIDC', TRUE, now(), now())""", subject);
        assertThat(tokens.authenticate(live.token()).orElseThrow())
                .isInstanceOfSatisfying(ApiTokens.Refused.class, r -> assertThat(r.reason()).contains("suspended"));
    }
}
