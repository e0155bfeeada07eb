package dev.atelier.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.domain.shared.Actor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.config.annotation.web.reactive.EnableWebFluxSecurity;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.header.ReferrerPolicyServerHttpHeadersWriter;
import org.springframework.security.web.server.savedrequest.NoOpServerRequestCache;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Every {@code /api/**} call needs {@code Authorization: Bearer <token>}; health, metrics, the OpenAPI document and
 * the web console's files ({@code /}, {@code /console/**}, {@code /vendor/**}, {@code /webjars/**}) are open: the
 * console holds no data of its own and asks the API with the token the user pastes. Every answer carries the
 * console's strict Content-Security-Policy ({@link ConsolePolicy}). Failures are answered with problem+json. OIDC
 * bearer JWTs will plug in as a second authentication manager chosen by token shape.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebFluxSecurity
public class SecurityConfiguration {

    /** Exchange attribute: the {@code detail} of a problem answer, for the audit trail's record of the attempt. */
    public static final String PROBLEM_DETAIL = "atelier.problem.detail";

    @Bean
    SecurityWebFilterChain apiSecurity(ServerHttpSecurity http, ApiTokens tokens, AgentTokens agentTokens,
                                       ObjectMapper json, ConsolePolicy console) {
        AuthenticationWebFilter bearer = new AuthenticationWebFilter(tokenAuthentication(tokens, agentTokens));
        bearer.setRequiresAuthenticationMatcher(ServerWebExchangeMatchers.pathMatchers("/api/**"));
        bearer.setServerAuthenticationConverter(exchange -> Mono.justOrEmpty(bearerToken(exchange))
                .map(BearerToken::new));
        bearer.setSecurityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        bearer.setAuthenticationFailureHandler((webFilterExchange, e) -> write(webFilterExchange.getExchange(), json,
                HttpStatus.UNAUTHORIZED, "the bearer token is not valid (unknown, revoked or malformed)"));
        return http
                .csrf(ServerHttpSecurity.CsrfSpec::disable)
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .logout(ServerHttpSecurity.LogoutSpec::disable)
                .requestCache(cache -> cache.requestCache(NoOpServerRequestCache.getInstance()))
                .securityContextRepository(NoOpServerSecurityContextRepository.getInstance())
                .headers(headers -> headers
                        .contentSecurityPolicy(csp -> csp.policyDirectives(console.contentSecurityPolicy()))
                        .referrerPolicy(referrer -> referrer.policy(
                                ReferrerPolicyServerHttpHeadersWriter.ReferrerPolicy.NO_REFERRER)))
                .addFilterAt(bearer, SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers("/api/**").authenticated()
                        .anyExchange().permitAll())
                .exceptionHandling(handling -> handling
                        .authenticationEntryPoint((exchange, e) -> write(exchange, json, HttpStatus.UNAUTHORIZED,
                                "this endpoint needs 'Authorization: Bearer <token>' (an Atelier API token)"))
                        .accessDeniedHandler((exchange, e) -> write(exchange, json, HttpStatus.FORBIDDEN,
                                "your token does not allow this")))
                .build();
    }

    private static ReactiveAuthenticationManager tokenAuthentication(ApiTokens tokens, AgentTokens agentTokens) {
        // Token lookup hits the database: keep it off the event loop.
        return authentication -> Mono.fromCallable(() -> {
                    String token = (String) authentication.getCredentials();
                    if (AgentTokens.looksLikeAgentToken(token)) {
                        // A workspace agent: no roles, valid only for its workspace and build (checked per request).
                        return agentTokens.verify(token).map(claim -> new AtelierPrincipal(
                                "agent:" + claim.workspaceId(), Actor.ActorType.AGENT, Set.of(),
                                claim.workspaceId() + ":" + claim.buildNumber()));
                    }
                    return tokens.authenticate(token);
                })
                .subscribeOn(Schedulers.boundedElastic())
                .flatMap(found -> found.<Authentication>map(PrincipalAuthentication::new).map(Mono::just)
                        .orElseGet(() -> Mono.error(new BadCredentialsException("invalid token"))));
    }

    private static String bearerToken(ServerWebExchange exchange) {
        String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).trim();
    }

    static Mono<Void> write(ServerWebExchange exchange, ObjectMapper json, HttpStatus status, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setInstance(URI.create(exchange.getRequest().getPath().value()));
        exchange.getAttributes().put(PROBLEM_DETAIL, detail);
        var response = exchange.getResponse();
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (status == HttpStatus.UNAUTHORIZED) {
            response.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        }
        try {
            byte[] body = json.writeValueAsBytes(problem);
            return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
        } catch (Exception e) {
            return Mono.error(e);
        }
    }

    /** The presented token before it is checked. */
    static final class BearerToken extends AbstractAuthenticationToken {
        private final String token;

        BearerToken(String token) {
            super(null);
            this.token = token;
        }

        @Override
        public Object getCredentials() {
            return token;
        }

        @Override
        public Object getPrincipal() {
            return null;
        }
    }

    /** A checked caller. */
    static final class PrincipalAuthentication extends AbstractAuthenticationToken {
        private final AtelierPrincipal principal;

        PrincipalAuthentication(AtelierPrincipal principal) {
            super(principal.roles().stream().map(r -> new SimpleGrantedAuthority("ROLE_" + r.id()))
                    .collect(Collectors.toList()));
            this.principal = principal;
            setAuthenticated(true);
        }

        @Override
        public Object getCredentials() {
            return "";
        }

        @Override
        public Object getPrincipal() {
            return principal;
        }
    }
}
