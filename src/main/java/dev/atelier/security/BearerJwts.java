package dev.atelier.security;

import com.nimbusds.jose.proc.BadJOSEException;
import dev.atelier.api.RequestContext;
import dev.atelier.domain.shared.Actor;
import dev.atelier.projections.identity.IdentityReadModel;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.authentication.DisabledException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.JwtValidationException;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.JwtReactiveAuthenticationManager;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Bearer JWTs of the OIDC issuer, checked by Spring Security and Nimbus: the issuer's keys come from its discovery
 * document and JWKS (fetched on first use; a key id it does not know makes it fetch the JWKS again, which is how key
 * rotation at the issuer is followed); issuer, audience and timestamps (with {@code atelier.oidc.clock-skew}) are
 * validated. Every failure says why in its description, which becomes the {@code WWW-Authenticate} header's
 * {@code error_description}. The first use of a token counts as a login ({@link Logins}); after that each request only
 * checks that its user is not suspended.
 */
public final class BearerJwts {

    private static final Pattern JTI = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final Set<String> ACCESS_TOKEN_TYPES = Set.of("jwt", "at+jwt", "application/at+jwt");
    private static final int SEEN = 10_000;

    private final ClaimMapping mapping;
    private final Logins logins;
    private final IdentityReadModel identities;
    private final JwtReactiveAuthenticationManager manager;
    /** Tokens whose first use (the login) this node has seen; bounded, oldest forgotten first. */
    private final Map<String, Boolean> seen = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > SEEN;
        }
    });

    public BearerJwts(ReactiveJwtDecoder decoder, ClaimMapping mapping, Logins logins, IdentityReadModel identities) {
        this.mapping = mapping;
        this.logins = logins;
        this.identities = identities;
        this.manager = new JwtReactiveAuthenticationManager(decoder);
        this.manager.setJwtAuthenticationConverter(jwt -> Mono.deferContextual(context -> Mono.fromCallable(
                        () -> authenticate(jwt, context.getOrDefault(ServerWebExchange.class, null)))
                .subscribeOn(Schedulers.boundedElastic())));
    }

    /** The issuer's decoder: lazy discovery, audience, issuer, timestamps with bounded clock skew, typ of access tokens. */
    public static ReactiveJwtDecoder decoder(OidcProperties properties) {
        NimbusReactiveJwtDecoder decoder = NimbusReactiveJwtDecoder.withIssuerLocation(properties.issuerUri())
                .validateType(false) // checked below, so that RFC 9068 access tokens (typ at+jwt) pass too
                .build();
        decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(List.of(
                type(), issuer(properties.issuerUri()), audience(properties.audience()),
                timestamps(properties.clockSkew()))));
        return decoder;
    }

    public ReactiveAuthenticationManager manager() {
        return authentication -> manager.authenticate(authentication).onErrorMap(BearerJwts::describe);
    }

    private PrincipalAuthentication authenticate(Jwt jwt, ServerWebExchange exchange) {
        ExternalIdentity identity;
        try {
            identity = mapping.map(jwt.getClaims());
        } catch (IllegalArgumentException e) {
            throw new InvalidBearerTokenException(e.getMessage());
        }
        String credentialId = "jwt:" + (jwt.getId() != null && JTI.matcher(jwt.getId()).matches()
                ? jwt.getId() : sha256(jwt.getTokenValue()).substring(0, 16));
        String key = jwt.getIssuer() + " " + credentialId;
        var user = identities.user(identity.subject());
        if (seen.containsKey(key) && user.isPresent()) {
            if (user.get().suspended()) {
                throw new DisabledException("user " + identity.subject() + " is suspended; an owner can activate them again");
            }
        } else {
            Map<String, Object> metadata = exchange == null ? Map.of() : RequestContext.of(exchange, null).metadata();
            try {
                logins.login(identity, "bearer-jwt", credentialId, metadata);
            } catch (Logins.Refused refused) {
                throw new DisabledException(refused.getMessage());
            }
            seen.put(key, Boolean.TRUE);
        }
        return new PrincipalAuthentication(new AtelierPrincipal(identity.subject(), Actor.ActorType.USER,
                identity.roles(), credentialId, null, jwt.getExpiresAt()));
    }

    /** A failure in words a person can act on; the JWT's own content is never echoed beyond times. */
    static AuthenticationException describe(Throwable e) {
        if (e instanceof InvalidBearerTokenException invalid && invalid.getCause() instanceof JwtValidationException) {
            return invalid; // our validators' descriptions say it already
        }
        if (e instanceof InvalidBearerTokenException invalid && invalid.getCause() instanceof BadJwtException bad) {
            if (bad.getCause() instanceof BadJOSEException) {
                return new InvalidBearerTokenException("the token's signature does not verify with the issuer's keys "
                        + "(signed by another key, or altered)", bad);
            }
            return new InvalidBearerTokenException("the token is not a JWT this engine can read (malformed, or an "
                    + "algorithm the issuer does not use)", bad);
        }
        if (e instanceof AuthenticationException authentication && !(e instanceof AuthenticationServiceException)) {
            return authentication;
        }
        return new AuthenticationServiceException("the identity provider's keys could not be fetched to check the "
                + "token; try again later", e);
    }

    private static OAuth2TokenValidator<Jwt> type() {
        return jwt -> {
            Object typ = jwt.getHeaders().get("typ");
            return typ == null || ACCESS_TOKEN_TYPES.contains(typ.toString().toLowerCase(java.util.Locale.ROOT))
                    ? OAuth2TokenValidatorResult.success()
                    : failure("the token's type (typ header) is not a JWT access token");
        };
    }

    /** Spring's check of exp and nbf, worded like the others. */
    private static OAuth2TokenValidator<Jwt> timestamps(java.time.Duration clockSkew) {
        JwtTimestampValidator spring = new JwtTimestampValidator(clockSkew);
        return jwt -> {
            if (!spring.validate(jwt).hasErrors()) {
                return OAuth2TokenValidatorResult.success();
            }
            java.time.Instant expiresAt = jwt.getExpiresAt();
            return expiresAt != null && !expiresAt.isAfter(java.time.Instant.now())
                    ? failure("the token expired at " + expiresAt + " (clock skew tolerated: " + clockSkew + ")")
                    : failure("the token is not valid before " + jwt.getNotBefore() + " (clock skew tolerated: "
                    + clockSkew + ")");
        };
    }

    private static OAuth2TokenValidator<Jwt> issuer(String expected) {
        return jwt -> expected.equals(jwt.getClaimAsString("iss")) ? OAuth2TokenValidatorResult.success()
                : failure("the token's issuer (iss) is not the configured issuer " + expected);
    }

    private static OAuth2TokenValidator<Jwt> audience(String expected) {
        return jwt -> jwt.getAudience() != null && jwt.getAudience().contains(expected)
                ? OAuth2TokenValidatorResult.success()
                : failure("the token's audience (aud) does not include '" + expected + "'");
    }

    private static OAuth2TokenValidatorResult failure(String description) {
        return OAuth2TokenValidatorResult.failure(new OAuth2Error(OAuth2ErrorCodes.INVALID_TOKEN, description, null));
    }

    private static String sha256(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
