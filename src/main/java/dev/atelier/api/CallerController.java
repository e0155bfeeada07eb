package dev.atelier.api;

import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.util.List;

/**
 * {@code GET /api/v1/users/me}: who the caller is and with which roles, in the shape of the contract
 * ({@code {id, name, email, roles, teams}}). The web console asks it after login to show each role its pages.
 * API tokens have a subject and roles only: name is the subject, no email, no teams. The identity work (users,
 * teams, OIDC) replaces this with its users API; until then this is the one read of the caller's own identity.
 */
@RestController
public class CallerController {

    public record Caller(String id, String name, String email, List<String> roles, List<String> teams,
                         String authentication) {
    }

    @GetMapping("/api/v1/users/me")
    public Mono<Caller> me(@AuthenticationPrincipal AtelierPrincipal caller) {
        List<String> roles = caller.roles().stream().map(Role::id).sorted().toList();
        return Mono.just(new Caller(caller.subject(), caller.subject(), null, roles, List.of(),
                caller.type().name()));
    }
}
