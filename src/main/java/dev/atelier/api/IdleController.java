package dev.atelier.api;

import dev.atelier.domain.shared.Text;

import dev.atelier.projections.idle.IdleQueries;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;

/** Running workspaces nobody uses: how long, under which policy, and what they cost meanwhile. */
@RestController
@RequestMapping("/api/v1/idle")
public class IdleController {

    private final Gateways gateways;

    public IdleController(Gateways gateways) {
        this.gateways = gateways;
    }

    @GetMapping
    public Mono<Map<String, List<IdleQueries.IdleWorkspace>>> idle(@RequestParam(defaultValue = "PT30M") String minIdle,
                                                                   @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE, Role.MEMBER);
        Duration min;
        try {
            min = Duration.parse(minIdle);
        } catch (DateTimeParseException e) {
            throw ApiProblem.badRequest("minIdle " + Text.quote(minIdle) + " is not an ISO-8601 duration (for example PT30M)");
        }
        if (min.isNegative()) {
            throw ApiProblem.badRequest("minIdle must not be negative");
        }
        // Members see their own workspaces; owners and finance see everybody's.
        String owner = caller.hasAny(Role.OWNER, Role.FINANCE) ? null : caller.subject();
        return gateways.query(new IdleQueries.FindIdleWorkspaces(min, owner),
                        ResponseTypes.multipleInstancesOf(IdleQueries.IdleWorkspace.class))
                .map(list -> Map.of("workspaces", list));
    }
}
