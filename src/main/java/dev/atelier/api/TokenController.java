package dev.atelier.api;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.domain.shared.Actor;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.projections.workspaces.WorkspaceQueries;
import dev.atelier.projections.workspaces.WorkspaceView;
import dev.atelier.security.ApiTokens;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import dev.atelier.security.TokenProperties;
import dev.atelier.security.TokenScope;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * API tokens with a lifecycle. Everybody creates, lists and revokes their own; owners also issue tokens for others and
 * see and revoke everybody's, which answers "who has access, with which tokens, last used when" in one call. A token
 * never carries more roles than its creator, and a token made with a token never outlives it. Scoped tokens (for
 * agents and CI) reach only named workspaces or agent workspaces, for hours. Creation, rotation and revocation are
 * recorded in the audit trail with the credential that did it (never a secret).
 */
@RestController
@RequestMapping("/api/v1/tokens")
public class TokenController {

    static final int MAX_SCOPED_WORKSPACES = 20;

    private final ApiTokens tokens;
    private final AuditRecorder audit;
    private final TokenProperties lifetimes;
    private final IdentityReadModel identities;
    private final Gateways gateways;
    private final LiveStreams liveStreams;

    public TokenController(ApiTokens tokens, AuditRecorder audit, TokenProperties lifetimes, IdentityReadModel identities,
                           Gateways gateways, LiveStreams liveStreams) {
        this.tokens = tokens;
        this.audit = audit;
        this.lifetimes = lifetimes;
        this.identities = identities;
        this.gateways = gateways;
        this.liveStreams = liveStreams;
    }

    /**
     * @param subject   whose token (owners only, for somebody else); default the caller
     * @param roles     default: the caller's roles (for a scoped token: member)
     * @param expiresIn ISO-8601 duration; default {@code atelier.tokens.default-lifetime} (scoped: {@code scoped-default-lifetime})
     */
    public record IssueTokenRequest(@NotBlank @Size(max = 100) String name,
                                    @Size(max = 100) @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._@|:+-]*") String subject,
                                    List<String> roles, Duration expiresIn, @Valid ScopeRequest scope) {
    }

    /** A token limited to these workspaces and/or to agent workspaces of its subject. */
    public record ScopeRequest(@Size(max = MAX_SCOPED_WORKSPACES) List<@Pattern(regexp = "[A-Za-z0-9-]{1,64}") String> workspaces,
                               Boolean agentWorkspaces) {
    }

    /** A token as listed: never its secret. */
    public record TokenView(String id, String name, String subject, List<String> roles, String kind, Instant createdAt,
                            String createdBy, Instant expiresAt, Instant lastUsedAt, TokenScope scope) {

        static TokenView of(ApiTokens.TokenRecord t) {
            return new TokenView(t.id().toString(), t.name(), t.subject(), t.roles(), t.kind(), t.createdAt(),
                    t.createdBy(), t.expiresAt(), t.lastUsedAt(), t.scope());
        }
    }

    @PostMapping
    public Mono<ResponseEntity<ApiTokens.IssuedToken>> issue(@Valid @RequestBody IssueTokenRequest request,
                                                             @AuthenticationPrincipal AtelierPrincipal caller,
                                                             ServerWebExchange exchange) {
        if (caller.scoped() || caller.type() == Actor.ActorType.AGENT) {
            throw ApiProblem.forbidden("a scoped or agent token cannot create tokens");
        }
        String subject = request.subject() == null ? caller.subject() : request.subject();
        boolean own = subject.equals(caller.subject());
        if (!own && !caller.has(Role.OWNER)) {
            throw ApiProblem.forbidden("only an owner may issue tokens for somebody else (field 'subject')");
        }
        TokenScope scope = scope(request.scope());
        Set<Role> roles = roles(request.roles(), caller, own, scope);
        Instant expiresAt = expiry(request.expiresIn(), scope != null, caller);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return requireVisible(scope, caller)
                .then(Mono.fromCallable(() -> {
                    ApiTokens.IssuedToken issued = tokens.issue(request.name(), subject, roles, caller.subject(),
                            expiresAt, scope);
                    Map<String, String> details = details(caller);
                    details.put("name", issued.name());
                    details.put("subject", issued.subject());
                    details.put("roles", String.join(",", issued.roles()));
                    details.put("expiresAt", expiresAt.toString());
                    if (scope != null) {
                        details.put("scope.workspaces", String.join(",", scope.workspaces().stream().sorted().toList()));
                        details.put("scope.agentWorkspaces", Boolean.toString(scope.agentWorkspaces()));
                    }
                    audit.record(new AuditRecordedEvent("create", AuditEntry.COMPLETED, "token", issued.id(),
                            AuditEntry.SUCCESS, 201, null, details), metadata);
                    return issued;
                }).subscribeOn(Schedulers.boundedElastic()))
                .map(issued -> ResponseEntity.status(HttpStatus.CREATED).body(issued));
    }

    /** The caller's tokens that work now; an owner's call lists everybody's (or one subject's). */
    @GetMapping
    public Mono<Map<String, List<TokenView>>> list(@RequestParam(required = false) String subject,
                                                   @AuthenticationPrincipal AtelierPrincipal caller) {
        if (caller.type() == Actor.ActorType.AGENT) {
            throw ApiProblem.forbidden("an agent token has no tokens to list");
        }
        String whose = subject;
        if (!caller.has(Role.OWNER)) {
            if (subject != null && !subject.equals(caller.subject())) {
                throw ApiProblem.forbidden("you may list only your own tokens");
            }
            whose = caller.subject();
        }
        String filter = whose;
        return Mono.fromCallable(() -> Map.of("tokens", tokens.active(filter).stream().map(TokenView::of).toList()))
                .subscribeOn(Schedulers.boundedElastic());
    }

    /** Revokes a token at once. {@code bootstrap} names the bootstrap admin token: retiring it needs an SSO owner. */
    @DeleteMapping("/{id}")
    public Mono<ResponseEntity<Void>> revoke(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                             ServerWebExchange exchange) {
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
                    ApiTokens.TokenRecord token = manageable(id, caller);
                    if (ApiTokens.KIND_BOOTSTRAP.equals(token.kind()) && !identities.activeOidcOwnerExists()) {
                        throw ApiProblem.conflict("the bootstrap admin token can be retired once a user who logs in "
                                + "through single sign-on holds the owner role; none does yet");
                    }
                    if (!tokens.revoke(token.id())) {
                        throw ApiProblem.notFound("no active token with this id");
                    }
                    liveStreams.closeCredential(token.id().toString());
                    Map<String, String> details = details(caller);
                    details.put("subject", token.subject());
                    details.put("kind", token.kind());
                    audit.record(new AuditRecordedEvent("revoke", AuditEntry.COMPLETED, "token", token.id().toString(),
                            AuditEntry.SUCCESS, 204, null, details), metadata);
                    return ResponseEntity.noContent().<Void>build();
                }).subscribeOn(Schedulers.boundedElastic());
    }

    /** A new secret for the same token (same id, roles and expiry); the old secret stops working at once. */
    @PostMapping("/{id}/rotate")
    public Mono<Map<String, Object>> rotate(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                            ServerWebExchange exchange) {
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
            ApiTokens.TokenRecord token = manageable(id, caller);
            String secret = tokens.rotate(token.id()).orElseThrow(() -> ApiProblem.notFound("no active token with this id"));
            liveStreams.closeCredential(token.id().toString()); // opened with the old secret
            Map<String, String> details = details(caller);
            details.put("subject", token.subject());
            details.put("kind", token.kind());
            audit.record(new AuditRecordedEvent("rotate", AuditEntry.COMPLETED, "token", token.id().toString(),
                    AuditEntry.SUCCESS, 200, null, details), metadata);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", token.id().toString());
            body.put("token", secret);
            body.put("expiresAt", token.expiresAt());
            return body;
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /** A token the caller may revoke or rotate: their own, or any for an owner; otherwise the same 404 as none. */
    private ApiTokens.TokenRecord manageable(String id, AtelierPrincipal caller) {
        if (caller.scoped() || caller.type() == Actor.ActorType.AGENT) {
            throw ApiProblem.forbidden("a scoped or agent token cannot manage tokens");
        }
        UUID tokenId = "bootstrap".equals(id) ? ApiTokens.BOOTSTRAP_ID : parse(id);
        Optional<ApiTokens.TokenRecord> found = tokenId == null ? Optional.empty() : tokens.find(tokenId)
                .filter(t -> t.active(Instant.now()));
        if (found.isEmpty()) {
            throw ApiProblem.notFound("no active token with this id");
        }
        ApiTokens.TokenRecord token = found.get();
        boolean own = token.subject().equals(caller.subject()) && !ApiTokens.KIND_BOOTSTRAP.equals(token.kind());
        if (!own && !caller.has(Role.OWNER)) {
            throw ApiProblem.concealedNotFound("no active token with this id");
        }
        return token;
    }

    private static UUID parse(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static TokenScope scope(ScopeRequest request) {
        if (request == null) {
            return null;
        }
        boolean agent = Boolean.TRUE.equals(request.agentWorkspaces());
        List<String> workspaces = request.workspaces() == null ? List.of() : request.workspaces();
        if (!agent && workspaces.isEmpty()) {
            throw ApiProblem.badRequest("a scope names 'workspaces' or sets 'agentWorkspaces': true (or both)");
        }
        return new TokenScope(Set.copyOf(workspaces), agent);
    }

    private static Set<Role> roles(List<String> requested, AtelierPrincipal caller, boolean own, TokenScope scope) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        if (requested == null || requested.isEmpty()) {
            if (scope != null) {
                roles.add(Role.MEMBER);
            } else if (own) {
                roles.addAll(caller.roles());
            } else {
                throw ApiProblem.badRequest("'roles' is required for a token of somebody else");
            }
        } else {
            requested.forEach(r -> roles.add(Role.parse(r)));
        }
        if (roles.isEmpty()) {
            throw ApiProblem.badRequest("a token needs at least one role; you have none to give it");
        }
        for (Role role : roles) {
            if (!caller.has(role)) {
                throw ApiProblem.forbidden("a token cannot carry more roles than its creator: you do not have '"
                        + role.id() + "'");
            }
        }
        if (scope != null && !roles.equals(Set.of(Role.MEMBER))) {
            throw ApiProblem.badRequest("a scoped token carries the role member only");
        }
        return roles;
    }

    private Instant expiry(Duration requested, boolean scoped, AtelierPrincipal caller) {
        Duration max = scoped ? lifetimes.scopedMaxLifetime() : lifetimes.maxLifetime();
        Duration lifetime = requested == null
                ? (scoped ? lifetimes.scopedDefaultLifetime() : lifetimes.defaultLifetime()) : requested;
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(max) > 0) {
            throw ApiProblem.badRequest("'expiresIn' must be positive and at most " + max
                    + (scoped ? " for a scoped token" : "") + " (an ISO-8601 duration such as P30D or PT8H)");
        }
        Instant expiresAt = Instant.now().plus(lifetime);
        if (caller.type() == Actor.ActorType.API_TOKEN && caller.expiresAt() != null
                && expiresAt.isAfter(caller.expiresAt())) {
            throw ApiProblem.badRequest("a token made with a token cannot outlive it: yours expires at "
                    + caller.expiresAt() + "; choose a shorter 'expiresIn'");
        }
        return expiresAt;
    }

    /** Named workspaces must exist and be the caller's to hand out (an owner may hand out any). */
    private Mono<Void> requireVisible(TokenScope scope, AtelierPrincipal caller) {
        if (scope == null) {
            return Mono.empty();
        }
        if (scope.agentWorkspaces() && !caller.hasAny(Role.MEMBER, Role.OWNER)) {
            throw ApiProblem.forbidden("creating agent workspaces needs the role member");
        }
        return Flux.fromIterable(scope.workspaces())
                .concatMap(id -> gateways.query(new WorkspaceQueries.FindWorkspace(id),
                                ResponseTypes.optionalInstanceOf(WorkspaceView.class))
                        .map(found -> found.filter(view -> Access.canSeeWorkspaceOf(caller, view.owner())).isPresent())
                        .filter(Boolean::booleanValue)
                        .switchIfEmpty(Mono.error(() -> ApiProblem.badRequest("a workspace in 'scope.workspaces' does "
                                + "not exist or is not yours to hand out"))))
                .then();
    }

    /** The acting credential is the entry's {@code tokenId} (request metadata); details say what was done to whom. */
    private static Map<String, String> details(AtelierPrincipal caller) {
        return new LinkedHashMap<>();
    }
}
