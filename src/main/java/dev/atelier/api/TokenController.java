package dev.atelier.api;

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
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** API tokens for people, CI jobs and agents; only owners issue and revoke them. */
@RestController
@RequestMapping("/api/v1/tokens")
public class TokenController {

    private final ApiTokens tokens;

    public TokenController(ApiTokens tokens) {
        this.tokens = tokens;
    }

    public record IssueTokenRequest(@NotBlank @Size(max = 100) String name,
                                    @NotBlank @Size(max = 100) @Pattern(regexp = "[A-Za-z0-9._@-]+") String subject,
                                    @NotEmpty List<String> roles) {
    }

    @PostMapping
    public Mono<ResponseEntity<ApiTokens.IssuedToken>> issue(@Valid @RequestBody IssueTokenRequest request,
                                                             @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER);
        Set<Role> roles = request.roles().stream().map(Role::parse).collect(Collectors.toSet());
        return Mono.fromCallable(() -> tokens.issue(request.name(), request.subject(), roles, caller.subject()))
                .subscribeOn(Schedulers.boundedElastic())
                .map(issued -> ResponseEntity.status(HttpStatus.CREATED).body(issued));
    }

    @DeleteMapping("/{id}")
    public Mono<ResponseEntity<Void>> revoke(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER);
        return Mono.fromCallable(() -> tokens.revoke(id)).subscribeOn(Schedulers.boundedElastic())
                .map(revoked -> {
                    if (!revoked) {
                        throw ApiProblem.notFound("no active token with id " + id);
                    }
                    return ResponseEntity.noContent().<Void>build();
                });
    }
}
