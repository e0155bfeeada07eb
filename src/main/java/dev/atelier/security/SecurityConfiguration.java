package dev.atelier.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.audit.AuditRecorder;
import dev.atelier.domain.shared.Actor;
import dev.atelier.projections.identity.IdentityReadModel;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.ReactiveAuthorizationManager;
import org.springframework.security.config.annotation.web.reactive.EnableWebFluxSecurity;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.client.registration.ReactiveClientRegistrationRepository;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizationRequestCustomizers;
import org.springframework.security.oauth2.client.web.server.DefaultServerOAuth2AuthorizationRequestResolver;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.authentication.logout.DelegatingServerLogoutHandler;
import org.springframework.security.web.server.authentication.logout.RedirectServerLogoutSuccessHandler;
import org.springframework.security.web.server.authentication.logout.SecurityContextServerLogoutHandler;
import org.springframework.security.web.server.authentication.logout.WebSessionServerLogoutHandler;
import org.springframework.security.web.server.authorization.AuthorizationContext;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.csrf.CookieServerCsrfTokenRepository;
import org.springframework.security.web.server.csrf.CsrfToken;
import org.springframework.security.web.server.csrf.ServerCsrfTokenRequestAttributeHandler;
import org.springframework.security.web.server.header.ReferrerPolicyServerHttpHeadersWriter;
import org.springframework.security.web.server.savedrequest.NoOpServerRequestCache;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every {@code /api/**} call is authenticated: {@code Authorization: Bearer <token>} with an API token, a workspace
 * agent's token or (with {@code ATELIER_OIDC_ISSUER_URI}) a JWT of the identity provider, the manager chosen by the
 * token's shape; or, with the browser login on ({@code ATELIER_OIDC_CLIENT_ID}), the session cookie, whose writes need
 * the CSRF token (bearer calls stay CSRF-free). Health, metrics, the OpenAPI document, {@code /auth/config} and the
 * login endpoints are open, and so are the web console's files ({@code /}, {@code /console/**}, {@code /vendor/**},
 * {@code /webjars/**}: the console holds no data of its own). Every answer carries the console's strict
 * Content-Security-Policy ({@link ConsolePolicy}). Failures are answered with problem+json and a {@code WWW-Authenticate}
 * that says why.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebFluxSecurity
public class SecurityConfiguration {

    /** Exchange attribute: the {@code detail} of a problem answer, for the audit trail's record of the attempt. */
    public static final String PROBLEM_DETAIL = "atelier.problem.detail";
    /** The cookie and header of the CSRF token of cookie-authenticated writes (docs/security.md). */
    public static final String CSRF_COOKIE = "XSRF-TOKEN";
    public static final String CSRF_HEADER = "X-XSRF-TOKEN";
    private static final String INVALID_BEARER = "the bearer token is not valid (unknown, revoked or malformed)";
    private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
    private static final String SCOPED_ONLY = "a scoped token may only use /api/v1/workspaces, read templates and "
            + "GET /api/v1/users/me";
    private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.TRACE);

    @Bean
    SecurityWebFilterChain apiSecurity(ServerHttpSecurity http, ApiTokens tokens, AgentTokens agentTokens,
                                       ObjectMapper json, OidcProperties oidc, Logins logins,
                                       IdentityReadModel identities, AuditRecorder audit, ConsolePolicy console) {
        ClaimMapping mapping = new ClaimMapping(oidc);
        BearerJwts jwts = oidc.enabled() ? new BearerJwts(BearerJwts.decoder(oidc), mapping, logins, identities) : null;
        AuthenticationWebFilter bearer = new AuthenticationWebFilter(bearerAuthentication(tokens, agentTokens, jwts));
        bearer.setRequiresAuthenticationMatcher(ServerWebExchangeMatchers.pathMatchers("/api/**"));
        bearer.setServerAuthenticationConverter(exchange -> Mono.justOrEmpty(bearerToken(exchange))
                .map(BearerTokenAuthenticationToken::new));
        bearer.setSecurityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        bearer.setAuthenticationFailureHandler((webFilterExchange, e) -> refuse(webFilterExchange.getExchange(), json, e));
        String needs = oidc.browserLogin()
                ? "this endpoint needs 'Authorization: Bearer <token>' (an Atelier API token or a JWT of the identity "
                + "provider) or a browser session (log in at /oauth2/authorization/" + OidcProperties.REGISTRATION_ID + ")"
                : oidc.enabled()
                ? "this endpoint needs 'Authorization: Bearer <token>' (an Atelier API token or a JWT of the identity provider)"
                : "this endpoint needs 'Authorization: Bearer <token>' (an Atelier API token)";
        http
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .requestCache(cache -> cache.requestCache(NoOpServerRequestCache.getInstance()))
                .headers(headers -> headers
                        .contentSecurityPolicy(csp -> csp.policyDirectives(console.contentSecurityPolicy()))
                        .referrerPolicy(referrer -> referrer.policy(
                                ReferrerPolicyServerHttpHeadersWriter.ReferrerPolicy.NO_REFERRER)))
                .addFilterAt(bearer, SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers("/api/**").access(scopedTokens())
                        .anyExchange().permitAll())
                .exceptionHandling(handling -> handling
                        .authenticationEntryPoint((exchange, e) -> write(exchange, json, HttpStatus.UNAUTHORIZED,
                                exchange.getAttributeOrDefault(BrowserSessions.ENDED, needs), null))
                        .accessDeniedHandler((exchange, e) -> write(exchange, json, HttpStatus.FORBIDDEN,
                                SCOPED_ONLY.equals(e.getMessage()) ? SCOPED_ONLY : "your token does not allow this",
                                null)));
        if (oidc.browserLogin()) {
            browserLogin(http, oidc, json, new BrowserSessions(mapping, logins, identities, audit));
        } else {
            http.csrf(ServerHttpSecurity.CsrfSpec::disable)
                    .logout(ServerHttpSecurity.LogoutSpec::disable)
                    .securityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        }
        return http.build();
    }

    /**
     * Authorization code with PKCE (also for a confidential client), a session per login, CSRF protection of the
     * session's writes (the token in the {@value #CSRF_COOKIE} cookie, sent back in {@value #CSRF_HEADER}), logout at
     * {@code POST /logout}.
     */
    private static void browserLogin(ServerHttpSecurity http, OidcProperties oidc, ObjectMapper json,
                                     BrowserSessions sessions) {
        ReactiveClientRegistrationRepository registrations = BrowserSessions.registrations(oidc);
        DefaultServerOAuth2AuthorizationRequestResolver requests =
                new DefaultServerOAuth2AuthorizationRequestResolver(registrations);
        requests.setAuthorizationRequestCustomizer(OAuth2AuthorizationRequestCustomizers.withPkce());
        CookieServerCsrfTokenRepository csrfTokens = CookieServerCsrfTokenRepository.withHttpOnlyFalse();
        csrfTokens.setCookieName(CSRF_COOKIE);
        csrfTokens.setHeaderName(CSRF_HEADER);
        RedirectServerLogoutSuccessHandler loggedOut = new RedirectServerLogoutSuccessHandler();
        loggedOut.setLogoutSuccessUrl(URI.create("/"));
        http
                .securityContextRepository(sessions)
                .oauth2Login(login -> login
                        .clientRegistrationRepository(registrations)
                        .authorizationRequestResolver(requests)
                        .securityContextRepository(sessions)
                        .authenticationSuccessHandler(sessions.onLogin())
                        .authenticationFailureHandler(sessions.onLoginFailure()))
                .csrf(csrf -> csrf
                        .csrfTokenRepository(csrfTokens)
                        .csrfTokenRequestHandler(new ServerCsrfTokenRequestAttributeHandler())
                        .requireCsrfProtectionMatcher(cookieWrites())
                        .accessDeniedHandler((exchange, e) -> write(exchange, json, HttpStatus.FORBIDDEN,
                                "a write with the session cookie needs the CSRF token: send the " + CSRF_COOKIE
                                        + " cookie's value in the " + CSRF_HEADER + " header", null)))
                .logout(logout -> logout
                        .logoutUrl("/logout")
                        .logoutHandler(new DelegatingServerLogoutHandler(sessions.onLogout(),
                                new SecurityContextServerLogoutHandler(), new WebSessionServerLogoutHandler()))
                        .logoutSuccessHandler(loggedOut))
                // The token is made lazily; asking for it on every cookie request sets the cookie for the console.
                .addFilterAfter(csrfCookie(), SecurityWebFiltersOrder.CSRF);
    }

    /** Writes that a browser makes on its own with the cookie: no bearer token, a session cookie. */
    private static ServerWebExchangeMatcher cookieWrites() {
        return exchange -> !SAFE.contains(exchange.getRequest().getMethod())
                && bearerToken(exchange) == null
                && exchange.getRequest().getCookies().containsKey("SESSION")
                ? ServerWebExchangeMatcher.MatchResult.match() : ServerWebExchangeMatcher.MatchResult.notMatch();
    }

    private static WebFilter csrfCookie() {
        return (exchange, chain) -> {
            Mono<CsrfToken> token = exchange.getAttribute(CsrfToken.class.getName());
            return token == null || bearerToken(exchange) != null ? chain.filter(exchange)
                    : token.then(chain.filter(exchange));
        };
    }

    /** A scoped token reaches workspaces, reads templates and asks who it is; nothing else. */
    private static ReactiveAuthorizationManager<AuthorizationContext> scopedTokens() {
        return (authentication, context) -> authentication
                .filter(Authentication::isAuthenticated)
                .flatMap(a -> {
                    if (!(a.getPrincipal() instanceof AtelierPrincipal caller) || !caller.scoped()) {
                        return Mono.just(new AuthorizationDecision(true));
                    }
                    var request = context.getExchange().getRequest();
                    String path = request.getPath().value();
                    boolean read = request.getMethod() == HttpMethod.GET;
                    if (path.equals("/api/v1/workspaces") || path.startsWith("/api/v1/workspaces/")
                            || (read && (path.equals("/api/v1/templates") || path.startsWith("/api/v1/templates/")
                            || path.equals("/api/v1/users/me")))) {
                        return Mono.just(new AuthorizationDecision(true));
                    }
                    return Mono.error(new AccessDeniedException(SCOPED_ONLY));
                })
                .defaultIfEmpty(new AuthorizationDecision(false));
    }

    /** The manager by the token's shape: an agent's, a JWT, or an API token (the bootstrap token can be any text). */
    private static ReactiveAuthenticationManager bearerAuthentication(ApiTokens tokens, AgentTokens agentTokens,
                                                                      BearerJwts jwts) {
        return authentication -> {
            String token = (String) authentication.getCredentials();
            if (!AgentTokens.looksLikeAgentToken(token) && JWT.matcher(token).matches()) {
                return jwts != null ? jwts.manager().authenticate(authentication)
                        : Mono.error(new BadCredentialsException("bearer JWTs are not accepted: single sign-on is "
                        + "not configured (ATELIER_OIDC_ISSUER_URI)"));
            }
            if (AgentTokens.looksLikeAgentToken(token)) {
                // A workspace agent: no roles, valid only for its workspace and build (checked per request against
                // CurrentBuilds). Only an HMAC, no database: answered on the calling thread, no hop to another.
                return agentTokens.verify(token)
                        .<Mono<Authentication>>map(claim -> Mono.just(new PrincipalAuthentication(new AtelierPrincipal(
                                "agent:" + claim.workspaceId(), Actor.ActorType.AGENT, Set.of(),
                                claim.workspaceId() + ":" + claim.buildNumber()))))
                        .orElseGet(() -> Mono.error(new BadCredentialsException(INVALID_BEARER)));
            }
            // Token lookup hits the database: keep it off the event loop.
            return Mono.fromCallable(() -> tokens.authenticate(token))
                    .subscribeOn(Schedulers.boundedElastic())
                    .flatMap(found -> found.isEmpty()
                            ? Mono.error(new BadCredentialsException(INVALID_BEARER))
                            : found.get() instanceof ApiTokens.Accepted accepted
                            ? Mono.just(new PrincipalAuthentication(accepted.principal()))
                            : Mono.error(new BadCredentialsException(((ApiTokens.Refused) found.get()).reason())));
        };
    }

    private static Mono<Void> refuse(ServerWebExchange exchange, ObjectMapper json, AuthenticationException e) {
        if (e instanceof AuthenticationServiceException) {
            return write(exchange, json, HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), null);
        }
        // An OAuth2 error's message is its cause's; its description is what says why.
        String reason = e instanceof OAuth2AuthenticationException oauth && oauth.getError().getDescription() != null
                ? oauth.getError().getDescription() : e.getMessage();
        return write(exchange, json, HttpStatus.UNAUTHORIZED, reason, reason);
    }

    static String bearerToken(ServerWebExchange exchange) {
        String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).trim();
    }

    /**
     * @param invalidToken why the presented token was refused (RFC 6750 {@code error_description}); null when no token
     *                     came at all
     */
    static Mono<Void> write(ServerWebExchange exchange, ObjectMapper json, HttpStatus status, String detail,
                            String invalidToken) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setInstance(URI.create(exchange.getRequest().getPath().value()));
        exchange.getAttributes().put(PROBLEM_DETAIL, detail);
        var response = exchange.getResponse();
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (status == HttpStatus.UNAUTHORIZED) {
            response.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, invalidToken == null ? "Bearer realm=\"atelier\""
                    : "Bearer realm=\"atelier\", error=\"invalid_token\", error_description=\""
                    + invalidToken.replaceAll("[\"\\\\\\r\\n]", "'") + "\"");
        }
        try {
            byte[] body = json.writeValueAsBytes(problem);
            return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
        } catch (Exception e) {
            return Mono.error(e);
        }
    }
}
