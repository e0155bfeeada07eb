package dev.atelier.api;

import dev.atelier.domain.identity.ActivateUserCommand;
import dev.atelier.domain.identity.AddSshKeyCommand;
import dev.atelier.domain.identity.IdentitySource;
import dev.atelier.domain.identity.RegisterUserCommand;
import dev.atelier.domain.identity.RemoveSshKeyCommand;
import dev.atelier.domain.identity.SuspendUserCommand;
import dev.atelier.domain.shared.Actor;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.projections.identity.IdentityReadModel.SshKeyRecord;
import dev.atelier.projections.identity.IdentityReadModel.UserRecord;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import dev.atelier.security.SshPublicKeys;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
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
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * Users: who am I, the list and suspension (owners), creating a user ahead of their first login (owners), and each
 * user's SSH public keys (what the SSH gateway checks). A suspension works at once: the security layer reads the
 * user's status on every request, live streams of the user end, and their running workspaces stop (reason SYSTEM).
 */
@RestController
@RequestMapping("/api/v1/users")
public class UserController {

    private static final int MAX_PAGE = 500;

    private final IdentityReadModel identities;
    private final Gateways gateways;
    private final LiveStreams liveStreams;

    public UserController(IdentityReadModel identities, Gateways gateways, LiveStreams liveStreams) {
        this.identities = identities;
        this.gateways = gateways;
        this.liveStreams = liveStreams;
    }

    public record CreateUserRequest(@NotBlank @Size(max = 100) String id, @Size(max = 200) String name,
                                    @Email @Size(max = 254) String email, List<String> roles,
                                    @Size(max = 200) List<String> teams) {
    }

    public record AddKeyRequest(@NotBlank @Size(max = 100) String name, @NotBlank String publicKey) {
    }

    /**
     * The caller: the user record if there is one, with the roles of this credential; {@code authentication} says how
     * they signed in ({@code USER} for single sign-on, {@code API_TOKEN}, {@code AGENT}). The web console asks this.
     */
    @GetMapping("/me")
    public Mono<Map<String, Object>> me(@AuthenticationPrincipal AtelierPrincipal caller) {
        return blocking(() -> {
            UserRecord user = identities.user(caller.subject()).orElse(null);
            Map<String, Object> me = new LinkedHashMap<>();
            me.put("id", caller.subject());
            // A subject that is no user (an API token issued for a name) is called by that name.
            me.put("name", user == null || user.name() == null ? caller.subject() : user.name());
            me.put("email", user == null ? null : user.email());
            me.put("roles", caller.roles().stream().map(Role::id).sorted().toList());
            me.put("teams", user == null ? List.of() : user.teams());
            me.put("authentication", caller.type().name());
            return me;
        });
    }

    @GetMapping
    public Mono<Map<String, Object>> list(@RequestParam(defaultValue = "100") int limit,
                                          @RequestParam(required = false) String cursor,
                                          @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER);
        if (limit < 1 || limit > MAX_PAGE) {
            throw ApiProblem.badRequest("limit must be between 1 and " + MAX_PAGE);
        }
        return blocking(() -> {
            List<UserRecord> page = identities.users(limit + 1, cursor);
            Map<String, Object> body = new HashMap<>();
            body.put("users", page.size() > limit ? page.subList(0, limit) : page);
            if (page.size() > limit) {
                body.put("nextCursor", page.get(limit - 1).id());
            }
            return body;
        });
    }

    /** An owner creates a user ahead of their first login (or one who never logs in through the identity provider). */
    @PostMapping
    public Mono<ResponseEntity<UserRecord>> create(@Valid @RequestBody CreateUserRequest request,
                                                   @AuthenticationPrincipal AtelierPrincipal caller,
                                                   ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        Set<String> roles = request.roles() == null ? Set.of()
                : request.roles().stream().map(r -> Role.parse(r).id()).collect(Collectors.toCollection(TreeSet::new));
        Set<String> teams = request.teams() == null ? Set.of() : new TreeSet<>(request.teams());
        return blocking(() -> {
            if (identities.user(request.id()).isPresent()) {
                throw ApiProblem.conflict("a user with this id already exists");
            }
            if (!identities.unknownTeams(teams).isEmpty()) {
                throw ApiProblem.badRequest("a team in 'teams' does not exist; create it first (POST /api/v1/teams)");
            }
            return request;
        }).flatMap(ok -> gateways.send(new RegisterUserCommand(request.id(), request.name(), request.email(), roles,
                        teams, IdentitySource.OWNER, caller.actor()), RequestContext.of(exchange, caller)))
                .then(found(request.id()))
                .map(user -> ResponseEntity.created(URI.create("/api/v1/users/" + user.id())).body(user));
    }

    @PostMapping("/{id}/suspend")
    public Mono<UserRecord> suspend(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                    ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        if (id.equals(caller.subject())) {
            throw ApiProblem.conflict("you cannot suspend yourself");
        }
        return found(id).flatMap(user -> gateways.send(new SuspendUserCommand(id, caller.actor()),
                        RequestContext.of(exchange, caller)))
                .then(Mono.fromRunnable(() -> liveStreams.closeSubject(id)))
                .then(found(id));
    }

    @PostMapping("/{id}/activate")
    public Mono<UserRecord> activate(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                     ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER);
        return found(id).flatMap(user -> gateways.send(new ActivateUserCommand(id, caller.actor()),
                RequestContext.of(exchange, caller))).then(found(id));
    }

    @GetMapping("/me/keys")
    public Mono<Map<String, List<Map<String, Object>>>> keys(@AuthenticationPrincipal AtelierPrincipal caller) {
        return blocking(() -> Map.of("keys", identities.sshKeys(caller.subject()).stream().map(UserController::key).toList()));
    }

    @PostMapping("/me/keys")
    public Mono<ResponseEntity<Map<String, Object>>> addKey(@Valid @RequestBody AddKeyRequest request,
                                                            @AuthenticationPrincipal AtelierPrincipal caller,
                                                            ServerWebExchange exchange) {
        requirePerson(caller);
        SshPublicKeys.SshPublicKey key = SshPublicKeys.parse(request.publicKey());
        String keyId = UUID.randomUUID().toString();
        return blocking(() -> {
            if (identities.user(caller.subject()).isEmpty()) {
                throw ApiProblem.conflict("SSH keys belong to users, and '" + caller.subject() + "' is none: log in "
                        + "through single sign-on once, or ask an owner to create the user (POST /api/v1/users)");
            }
            if (identities.sshKeyOwner(key.fingerprint()).isPresent()) {
                throw ApiProblem.conflict("this key (" + key.fingerprint() + ") is already registered; a key can "
                        + "belong to one user only");
            }
            return key;
        }).flatMap(ok -> gateways.send(new AddSshKeyCommand(caller.subject(), keyId, request.name(), key.type(),
                        key.bits(), key.fingerprint(), key.publicKey(), caller.actor()), RequestContext.of(exchange, caller)))
                .then(blocking(() -> identities.sshKeys(caller.subject()).stream()
                        .filter(k -> k.id().equals(keyId)).findFirst().map(UserController::key).orElseThrow()))
                .map(body -> ResponseEntity.created(URI.create("/api/v1/users/me/keys/" + keyId)).body(body));
    }

    @DeleteMapping("/me/keys/{id}")
    public Mono<ResponseEntity<Void>> removeKey(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                                ServerWebExchange exchange) {
        requirePerson(caller);
        return blocking(() -> identities.sshKeys(caller.subject()).stream().anyMatch(k -> k.id().equals(id)))
                .flatMap(exists -> {
                    if (!exists) {
                        return Mono.error(ApiProblem.notFound("you have no SSH key with this id"));
                    }
                    return gateways.send(new RemoveSshKeyCommand(caller.subject(), id, caller.actor()),
                            RequestContext.of(exchange, caller));
                })
                .thenReturn(ResponseEntity.noContent().<Void>build());
    }

    private static void requirePerson(AtelierPrincipal caller) {
        if (caller.scoped() || caller.type() == Actor.ActorType.AGENT) {
            throw ApiProblem.forbidden("a scoped or agent token cannot change SSH keys");
        }
    }

    private Mono<UserRecord> found(String id) {
        return blocking(() -> identities.user(id).orElseThrow(() -> ApiProblem.notFound("no user with this id")));
    }

    private static Map<String, Object> key(SshKeyRecord key) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", key.id());
        view.put("name", key.name());
        view.put("type", key.type());
        view.put("bits", key.bits());
        view.put("fingerprint", key.fingerprint());
        view.put("publicKey", key.publicKey());
        view.put("createdAt", key.createdAt());
        return view;
    }

    private static <T> Mono<T> blocking(Callable<T> read) {
        return Mono.fromCallable(read).subscribeOn(Schedulers.boundedElastic());
    }
}
