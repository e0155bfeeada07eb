package dev.atelier.api;

import dev.atelier.domain.identity.ChangeTeamMembershipCommand;
import dev.atelier.domain.identity.CreateTeamCommand;
import dev.atelier.domain.identity.IdentitySource;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.projections.identity.IdentityReadModel.TeamRecord;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Teams: what workspaces, budgets and cost reports name. Teams appear when a login's teams claim names them (their
 * members follow the identity provider) or when an owner creates them (their members are set here by owners).
 */
@RestController
@RequestMapping("/api/v1/teams")
public class TeamController {

    static final int MAX_MEMBERS = 1000;

    private final IdentityReadModel identities;
    private final Gateways gateways;

    public TeamController(IdentityReadModel identities, Gateways gateways) {
        this.identities = identities;
        this.gateways = gateways;
    }

    public record CreateTeamRequest(@NotBlank @Size(max = 100) String name, @Size(max = 500) String description) {
    }

    public record MembersRequest(@NotNull @Size(max = MAX_MEMBERS) List<@NotBlank String> members) {
    }

    @GetMapping
    public Mono<Map<String, List<TeamRecord>>> list(@AuthenticationPrincipal AtelierPrincipal caller) {
        return Mono.fromCallable(() -> Map.of("teams", identities.teams(null))).subscribeOn(Schedulers.boundedElastic());
    }

    @PostMapping
    public Mono<ResponseEntity<TeamRecord>> create(@Valid @RequestBody CreateTeamRequest request,
                                                   @AuthenticationPrincipal AtelierPrincipal caller,
                                                   ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        return gateways.send(new CreateTeamCommand(request.name(), request.description(), IdentitySource.OWNER,
                        caller.actor()), RequestContext.of(exchange, caller))
                .then(team(request.name()))
                .map(team -> ResponseEntity.created(URI.create("/api/v1/teams/" + team.name())).body(team));
    }

    /** Sets who is in an owner-managed team: users added and removed one by one, each change an event of the user. */
    @PutMapping("/{name}/members")
    public Mono<TeamRecord> members(@PathVariable String name, @Valid @RequestBody MembersRequest request,
                                    @AuthenticationPrincipal AtelierPrincipal caller, ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Set<String> wanted = new TreeSet<>(request.members());
        RequestContext context = RequestContext.of(exchange, caller);
        return team(name).flatMap(team -> Mono.fromCallable(() -> {
                    if (IdentitySource.OIDC.name().equals(team.source())) {
                        throw ApiProblem.conflict("team " + name + " is synced from the identity provider at each "
                                + "login; change its members there");
                    }
                    Set<String> unknown = identities.unknownUsers(wanted);
                    if (!unknown.isEmpty()) {
                        throw ApiProblem.badRequest(unknown.size() + " of the users in 'members' do not exist; they "
                                + "appear at their first login, or an owner creates them (POST /api/v1/users)");
                    }
                    return identities.ownerManagedMembers(name);
                }).subscribeOn(Schedulers.boundedElastic()))
                .flatMapMany(current -> {
                    Set<String> leaving = new TreeSet<>(current);
                    leaving.removeAll(wanted);
                    Set<String> joining = new TreeSet<>(wanted);
                    joining.removeAll(current);
                    return Flux.concat(
                            Flux.fromIterable(leaving).concatMap(user -> gateways.send(
                                    new ChangeTeamMembershipCommand(user, name, false, caller.actor()), context)),
                            Flux.fromIterable(joining).concatMap(user -> gateways.send(
                                    new ChangeTeamMembershipCommand(user, name, true, caller.actor()), context)));
                })
                .then(team(name));
    }

    private Mono<TeamRecord> team(String name) {
        return Mono.fromCallable(() -> identities.team(name).orElseThrow(() -> ApiProblem.notFound("no team with this name")))
                .subscribeOn(Schedulers.boundedElastic());
    }
}
