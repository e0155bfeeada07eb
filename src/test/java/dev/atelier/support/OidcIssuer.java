package dev.atelier.support;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.KeyProvider;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;

import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A real OIDC issuer in the test JVM (no.nav mock-oauth2-server: discovery, JWKS, authorization code flow with PKCE),
 * whose signing key can be rotated, plus hand-signed tokens for the cases a well-behaved issuer never issues (another
 * issuer, another audience, expired, not yet valid, signed by a stranger).
 */
public final class OidcIssuer implements AutoCloseable {

    public static final String ID = "atelier-idp";
    public static final String AUDIENCE = "atelier";

    private final RotatingKeys keys = new RotatingKeys();
    private final MockOAuth2Server server;

    public OidcIssuer() {
        server = new MockOAuth2Server(new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(keys)));
        server.start();
    }

    public String issuerUri() {
        return server.issuerUrl(ID).toString();
    }

    /** An access token for {@code subject} from the issuer itself (its token endpoint). */
    public String token(String subject, Map<String, Object> claims) {
        return server.issueToken(ID, "atelier-cli", new DefaultOAuth2TokenCallback(ID, subject, "JWT",
                List.of(AUDIENCE), claims, 3600)).serialize();
    }

    /** Who the next browser login at the issuer is (its login is not interactive). */
    public void nextLogin(String subject, Map<String, Object> claims) {
        server.enqueueCallback(new DefaultOAuth2TokenCallback(ID, subject, "JWT", List.of(AUDIENCE), claims, 3600));
    }

    /**
     * A token signed with the issuer's current key: {@code iss}, {@code aud}, {@code iat}, {@code nbf}, {@code exp} (an
     * hour) and {@code jti} as the issuer would set them, then {@code overrides} (a null value removes a claim).
     */
    public String signed(String subject, Map<String, Object> overrides) {
        return sign(keys.current(), subject, overrides);
    }

    /** The same, but signed by a key the issuer never published under the current key id. */
    public String signedByStranger(String subject, Map<String, Object> overrides) {
        RSAKey stranger = RotatingKeys.newKey(keys.current().getKeyID());
        return sign(stranger, subject, overrides);
    }

    /** A new signing key with a new key id; the JWKS publishes only the new one from now on. */
    public void rotateKeys() {
        keys.rotate();
    }

    private String sign(JWK key, String subject, Map<String, Object> overrides) {
        Instant now = Instant.now();
        Map<String, Object> claims = new HashMap<>();
        claims.put("iss", issuerUri());
        claims.put("sub", subject);
        claims.put("aud", List.of(AUDIENCE));
        claims.put("iat", Date.from(now));
        claims.put("nbf", Date.from(now));
        claims.put("exp", Date.from(now.plusSeconds(3600)));
        claims.put("jti", UUID.randomUUID().toString());
        claims.putAll(overrides);
        JWTClaimsSet.Builder builder = new JWTClaimsSet.Builder();
        claims.forEach((name, value) -> {
            if (value != null) {
                builder.claim(name, value);
            }
        });
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
                    .type(JOSEObjectType.JWT).build(), builder.build());
            jwt.sign(new RSASSASigner(key.toRSAKey()));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.shutdown();
    }

    /** The issuer's key provider with a key that can be replaced: what a key rotation at a real issuer does. */
    static final class RotatingKeys extends KeyProvider {
        private volatile RSAKey current = newKey("key-1");
        private int generation = 1;

        RotatingKeys() {
            super(List.of(), JWSAlgorithm.RS256.getName());
        }

        RSAKey current() {
            return current;
        }

        synchronized void rotate() {
            current = newKey("key-" + (++generation));
        }

        @Override
        public JWK signingKey(String keyId) {
            return current;
        }

        static RSAKey newKey(String keyId) {
            try {
                return new RSAKeyGenerator(2048).keyID(keyId).generate();
            } catch (JOSEException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
