package dev.atelier.security;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokens of workspace agents: {@code atw_<workspace id>.<build>.<HMAC>}. Nothing is stored per token: a token is
 * valid for the build it was issued for, so it is revoked by the next transition (a stop) without bookkeeping and
 * never appears in an event. The HMAC key is generated once and kept in the database, shared by all nodes.
 */
@Component
public class AgentTokens {

    static final String PREFIX = "atw_";
    private static final Pattern TOKEN = Pattern.compile("atw_([A-Za-z0-9-]{1,64})\\.([0-9]{1,18})\\.([A-Za-z0-9_-]{43})");

    private final byte[] key;

    @Autowired
    public AgentTokens(JdbcTemplate jdbc) {
        this(loadOrCreateKey(jdbc));
    }

    public AgentTokens(byte[] key) {
        this.key = key.clone();
    }

    public String issue(String workspaceId, long buildNumber) {
        return PREFIX + workspaceId + "." + buildNumber + "." + sign(workspaceId, buildNumber);
    }

    /** @return the workspace and build the token was issued for, if it is genuine */
    public Optional<AgentClaim> verify(String token) {
        if (token == null) {
            return Optional.empty();
        }
        Matcher m = TOKEN.matcher(token);
        if (!m.matches()) {
            return Optional.empty();
        }
        String workspaceId = m.group(1);
        long build = Long.parseLong(m.group(2));
        byte[] expected = sign(workspaceId, build).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, m.group(3).getBytes(StandardCharsets.US_ASCII))) {
            return Optional.empty();
        }
        return Optional.of(new AgentClaim(workspaceId, build));
    }

    public static boolean looksLikeAgentToken(String token) {
        return token != null && token.startsWith(PREFIX);
    }

    public record AgentClaim(String workspaceId, long buildNumber) {
    }

    private String sign(String workspaceId, long build) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] digest = mac.doFinal((workspaceId + ":" + build).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] loadOrCreateKey(JdbcTemplate jdbc) {
        byte[] fresh = new byte[32];
        new SecureRandom().nextBytes(fresh);
        // The first node to start wins; everybody reads the stored key afterwards.
        jdbc.update("INSERT INTO engine_secret (name, value) VALUES ('agent-token-key', ?) ON CONFLICT DO NOTHING", fresh);
        return jdbc.queryForObject("SELECT value FROM engine_secret WHERE name = 'agent-token-key'", byte[].class);
    }
}
