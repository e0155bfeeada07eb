package dev.atelier.api;

import dev.atelier.domain.shared.Text;

import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.projections.audit.AuditRecorder;
import dev.atelier.security.ApiTokens;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * API tokens for people, CI jobs and agents; only owners issue and revoke them. Both are recorded in the audit trail
 * (never the token's secret).
 */
@RestController
@RequestMapping("/api/v1/tokens")
public class TokenController {

    private final ApiTokens tokens;
    private final AuditRecorder audit;

    public TokenController(ApiTokens tokens, AuditRecorder audit) {
        this.tokens = tokens;
        this.audit = audit;
    }

    public record IssueTokenRequest(@NotBlank @Size(max = 100) String name,
                                    @NotBlank @Size(max = 100) @Pattern(regexp = "[A-Za-z0-9._@-]+") String subject,
                                    @NotEmpty List<String> roles) {
    }

    @PostMapping
    public Mono<ResponseEntity<ApiTokens.IssuedToken>> issue(@Valid @RequestBody IssueTokenRequest request,
                                                             @AuthenticationPrincipal AtelierPrincipal caller,
                                                             ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Set<Role> roles = request.roles().stream().map(Role::parse).collect(Collectors.toSet());
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
                    ApiTokens.IssuedToken issued = tokens.issue(request.name(), request.subject(), roles, caller.subject());
                    Map<String, String> details = new LinkedHashMap<>();
                    details.put("name", issued.name());
                    details.put("subject", issued.subject());
                    details.put("roles", String.join(",", issued.roles()));
                    audit.record(new AuditRecordedEvent("create", AuditEntry.COMPLETED, "token", issued.id(),
                            AuditEntry.SUCCESS, 201, null, details), metadata);
                    return issued;
                })
                .subscribeOn(Schedulers.boundedElastic())
                .map(issued -> ResponseEntity.status(HttpStatus.CREATED).body(issued));
    }

    @DeleteMapping("/{id}")
    public Mono<ResponseEntity<Void>> revoke(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                             ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Map<String, Object> metadata = RequestContext.of(exchange, caller).metadata();
        return Mono.fromCallable(() -> {
                    boolean revoked = tokens.revoke(id);
                    if (revoked) {
                        audit.record(new AuditRecordedEvent("revoke", AuditEntry.COMPLETED, "token", id,
                                AuditEntry.SUCCESS, 204, null, Map.of()), metadata);
                    }
                    return revoked;
                }).subscribeOn(Schedulers.boundedElastic())
                .map(revoked -> {
                    if (!revoked) {
                        throw ApiProblem.notFound("no active token with id " + Text.quote(id));
                    }
                    return ResponseEntity.noContent().<Void>build();
                });
    }
}
