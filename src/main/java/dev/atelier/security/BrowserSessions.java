package dev.atelier.security;

import dev.atelier.api.RequestContext;
import dev.atelier.audit.AuditRecorder;
import dev.atelier.domain.shared.Actor;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.projections.identity.IdentityReadModel;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.ClientRegistrations;
import org.springframework.security.oauth2.client.registration.ReactiveClientRegistrationRepository;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.user.OAuth2User;
import org.springframework.security.web.server.DefaultServerRedirectStrategy;
import org.springframework.security.web.server.WebFilterExchange;
import org.springframework.security.web.server.authentication.ServerAuthenticationFailureHandler;
import org.springframework.security.web.server.authentication.ServerAuthenticationSuccessHandler;
import org.springframework.security.web.server.authentication.logout.ServerLogoutHandler;
import org.springframework.security.web.server.context.ServerSecurityContextRepository;
import org.springframework.security.web.server.context.WebSessionServerSecurityContextRepository;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebSession;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The browser login (authorization code with PKCE) and the session it leaves: after the identity provider's answer
 * the session holds an {@link AtelierPrincipal} whose credential is {@code session:<random id>} (never the cookie's
 * value). Every request with the session checks that its user is not suspended; a suspended user's session ends at
 * once. Logins, refused logins and logouts are recorded in the audit trail.
 */
public final class BrowserSessions implements ServerSecurityContextRepository {

    /** Exchange attribute: why a session stopped counting (shown in the 401). */
    static final String ENDED = "atelier.session.ended";
    private static final Pattern ERROR_CODE = Pattern.compile("[a-z_]{1,40}");

    private final WebSessionServerSecurityContextRepository sessions = new WebSessionServerSecurityContextRepository();
    private final ClaimMapping mapping;
    private final Logins logins;
    private final IdentityReadModel identities;
    private final AuditRecorder audit;
    private final DefaultServerRedirectStrategy redirect = new DefaultServerRedirectStrategy();

    public BrowserSessions(ClaimMapping mapping, Logins logins, IdentityReadModel identities, AuditRecorder audit) {
        this.mapping = mapping;
        this.logins = logins;
        this.identities = identities;
        this.audit = audit;
    }

    /**
     * The client registration, discovered from the issuer on first use (not at start-up, so the engine starts while the
     * identity provider is down). Without a client secret the client is public and PKCE is all it has; with one, PKCE
     * is added all the same ({@code SecurityConfiguration}).
     */
    public static ReactiveClientRegistrationRepository registrations(OidcProperties properties) {
        Mono<ClientRegistration> registration = Mono.fromCallable(() -> {
                    boolean secret = properties.clientSecret() != null && !properties.clientSecret().isBlank();
                    ClientRegistration.Builder builder = ClientRegistrations.fromIssuerLocation(properties.issuerUri())
                            .registrationId(OidcProperties.REGISTRATION_ID)
                            .clientId(properties.clientId())
                            .scope(properties.scopes())
                            .redirectUri(properties.redirectUri())
                            .clientName("Atelier");
                    if (secret) {
                        builder.clientSecret(properties.clientSecret());
                    } else {
                        builder.clientAuthenticationMethod(ClientAuthenticationMethod.NONE);
                    }
                    return builder.build();
                })
                .subscribeOn(Schedulers.boundedElastic())
                .cache(found -> Duration.ofMillis(Long.MAX_VALUE), failed -> Duration.ZERO, () -> Duration.ZERO);
        return id -> OidcProperties.REGISTRATION_ID.equals(id) ? registration : Mono.empty();
    }

    /** After the identity provider said yes: the login (user synced, audited), then the session holds our principal. */
    public ServerAuthenticationSuccessHandler onLogin() {
        return (webFilterExchange, authentication) -> {
            ServerWebExchange exchange = webFilterExchange.getExchange();
            OAuth2User user = ((OAuth2AuthenticationToken) authentication).getPrincipal();
            String credentialId = "session:" + UUID.randomUUID();
            Map<String, Object> metadata = RequestContext.of(exchange, null).metadata();
            return Mono.fromCallable(() -> {
                        ExternalIdentity identity = mapping.map(user.getAttributes());
                        logins.login(identity, "session", credentialId, metadata);
                        return new AtelierPrincipal(identity.subject(), Actor.ActorType.USER, identity.roles(),
                                credentialId);
                    })
                    .subscribeOn(Schedulers.boundedElastic())
                    .flatMap(principal -> sessions.save(exchange,
                                    new SecurityContextImpl(new PrincipalAuthentication(principal)))
                            .then(redirect.sendRedirect(exchange, URI.create("/"))))
                    .onErrorResume(e -> e instanceof Logins.Refused || e instanceof IllegalArgumentException,
                            e -> {
                                // A refused login (suspended user) is on record already; an unusable subject is not.
                                Mono<Void> record = e instanceof IllegalArgumentException
                                        ? Mono.<Void>fromRunnable(() -> logins.failed(e.getMessage(), "session", metadata))
                                        .subscribeOn(Schedulers.boundedElastic())
                                        : Mono.empty();
                                return record.then(exchange.getSession().flatMap(WebSession::invalidate))
                                        .then(redirect.sendRedirect(exchange, URI.create("/?login=refused")));
                            });
        };
    }

    /** The identity provider said no (or its answer did not check out): recorded, and back to the console. */
    public ServerAuthenticationFailureHandler onLoginFailure() {
        return (WebFilterExchange webFilterExchange, AuthenticationException e) -> {
            ServerWebExchange exchange = webFilterExchange.getExchange();
            String code = e instanceof OAuth2AuthenticationException oauth
                    && ERROR_CODE.matcher(oauth.getError().getErrorCode()).matches()
                    ? oauth.getError().getErrorCode() : "login_failed";
            Map<String, Object> metadata = RequestContext.of(exchange, null).metadata();
            return Mono.fromRunnable(() -> logins.failed("the identity provider's answer was refused: " + code,
                            "session", metadata))
                    .subscribeOn(Schedulers.boundedElastic())
                    .then(redirect.sendRedirect(exchange, URI.create("/?login=failed")));
        };
    }

    /** Logout: recorded with the session that ended. */
    public ServerLogoutHandler onLogout() {
        return (webFilterExchange, authentication) -> {
            if (authentication == null || !(authentication.getPrincipal() instanceof AtelierPrincipal principal)) {
                return Mono.empty();
            }
            Map<String, Object> metadata = RequestContext.of(webFilterExchange.getExchange(), principal).metadata();
            return Mono.fromRunnable(() -> audit.record(new AuditRecordedEvent("logout", AuditEntry.COMPLETED, "user",
                            principal.subject(), AuditEntry.SUCCESS, null, null,
                            Map.of("method", "session")), metadata))
                    .subscribeOn(Schedulers.boundedElastic()).then();
        };
    }

    @Override
    public Mono<Void> save(ServerWebExchange exchange, SecurityContext context) {
        return sessions.save(exchange, context);
    }

    /** A session counts only with our principal in it, and only while its user is not suspended. */
    @Override
    public Mono<SecurityContext> load(ServerWebExchange exchange) {
        return sessions.load(exchange).flatMap(context -> {
            if (!(context.getAuthentication() instanceof PrincipalAuthentication authentication)) {
                return Mono.empty(); // half-way through a login
            }
            String subject = authentication.getPrincipal().subject();
            return Mono.fromCallable(() -> identities.user(subject).filter(u -> !u.suspended()).isPresent())
                    .subscribeOn(Schedulers.boundedElastic())
                    .flatMap(active -> {
                        if (active) {
                            return Mono.just(context);
                        }
                        exchange.getAttributes().put(ENDED, "the session ended: user " + subject
                                + " is suspended; an owner can activate them again");
                        return exchange.getSession().flatMap(WebSession::invalidate).then(Mono.empty());
                    });
        });
    }
}
