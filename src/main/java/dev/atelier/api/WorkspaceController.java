package dev.atelier.api;

import dev.atelier.domain.shared.Text;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.atelier.domain.workspace.CreateWorkspaceCommand;
import dev.atelier.domain.workspace.CreatedWorkspace;
import dev.atelier.domain.workspace.ExtendWorkspaceCommand;
import dev.atelier.domain.workspace.PolicyOverrides;
import dev.atelier.domain.workspace.ReportHostKeysCommand;
import dev.atelier.projections.idle.ActivityIngestor;
import dev.atelier.projections.idle.IdleQueries;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.domain.workspace.DeleteWorkspaceCommand;
import dev.atelier.domain.workspace.StartWorkspaceCommand;
import dev.atelier.domain.workspace.StopWorkspaceCommand;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.UpdateWorkspaceCommand;
import dev.atelier.domain.workspace.WorkspaceKind;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.lifecycle.CurrentBuilds;
import dev.atelier.projections.templates.TemplateQueries;
import dev.atelier.projections.templates.TemplateView;
import dev.atelier.projections.workspaces.WorkspaceHistoryEntry;
import dev.atelier.projections.workspaces.WorkspaceQueries;
import dev.atelier.projections.workspaces.WorkspaceWatchers;
import dev.atelier.projections.workspaces.WorkspaceView;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Workspaces. Members act on their own workspaces; owners on all. A workspace that the caller may not see answers
 * 404, exactly like one that does not exist, so that ids of other people's workspaces leak nothing.
 */
@RestController
@RequestMapping("/api/v1/workspaces")
public class WorkspaceController {

    private static final Duration SSE_HEARTBEAT = Duration.ofSeconds(15);
    private static final int MAX_PAGE = 500;

    private final Gateways gateways;
    private final WorkspaceWatchers watchers;
    private final ActivityIngestor activity;
    private final IdentityReadModel identities;
    private final LiveStreams liveStreams;
    private final ApiLimits limits;
    private final CurrentBuilds builds;
    private final dev.atelier.gateway.SshGateway sshGateway;

    public WorkspaceController(Gateways gateways, ActivityIngestor activity, IdentityReadModel identities,
                               LiveStreams liveStreams, ApiLimits limits, CurrentBuilds builds,
                               dev.atelier.gateway.SshGateway sshGateway, WorkspaceWatchers watchers) {
        this.watchers = watchers;
        this.builds = builds;
        this.sshGateway = sshGateway;
        this.gateways = gateways;
        this.activity = activity;
        this.identities = identities;
        this.liveStreams = liveStreams;
        this.limits = limits;
    }

    public record CreateWorkspaceRequest(@NotBlank @Size(max = 63) String name, @NotBlank String templateId,
                                         Integer templateVersion, Map<String, String> parameters,
                                         @Size(max = 100) String owner, @Size(max = 100) String team,
                                         WorkspaceKind kind, Map<String, String> labels, PolicyOverrides policy) {
    }

    /**
     * A heartbeat: {@code connections} open connections of {@code source} (ssh, vscode, jetbrains, web, agent...), or
     * several sources at once in {@code sources} (source to open connections), which is what the agent sends each
     * beat: one request instead of one per source.
     */
    public record ActivityRequest(@Min(0) @Max(10_000) Integer connections,
                                  @Pattern(regexp = SOURCE) String source,
                                  Map<String, Integer> sources) {

        static final String SOURCE = "[a-z][a-z0-9-]{0,31}";
        static final int MAX_SOURCES = 16;

        /** The sources of this heartbeat and their connection counts, validated. */
        Map<String, Integer> counts() {
            if (sources == null) {
                if (source == null || connections == null) {
                    throw ApiProblem.badRequest("give 'source' and 'connections', or 'sources' ({\"ssh\": 1, \"agent\": 0})");
                }
                return Map.of(source, connections);
            }
            if (source != null || connections != null) {
                throw ApiProblem.badRequest("give either 'source' and 'connections' or 'sources', not both");
            }
            if (sources.isEmpty() || sources.size() > MAX_SOURCES) {
                throw ApiProblem.badRequest("'sources' needs 1 to " + MAX_SOURCES + " sources, has " + sources.size());
            }
            sources.forEach((name, count) -> {
                if (name == null || !name.matches(SOURCE)) {
                    throw ApiProblem.badRequest("source names are lower-case letters, digits and '-' (at most 32), "
                            + "starting with a letter");
                }
                if (count == null || count < 0 || count > 10_000) {
                    throw ApiProblem.badRequest("connections of source '" + name + "' must be 0 to 10000");
                }
            });
            return sources;
        }
    }

    /** Keep the workspace from idle stops until {@code until}, or for {@code duration} from now. */
    public record ExtendRequest(Instant until, Duration duration) {
    }

    /** The detail of a workspace: the view plus what the idle read model knows (activity, next automatic stop). */
    public record WorkspaceDetail(@JsonUnwrapped WorkspaceView workspace, IdleQueries.Activity activity) {
    }

    public record UpdateWorkspaceRequest(Integer templateVersion, Map<String, String> parameters) {
    }

    /** The answer to an accepted transition: which build carries it out and the status it is in now. */
    public record TransitionAccepted(String id, Transition transition, long buildNumber, WorkspaceStatus status) {
    }

    @PostMapping
    public Mono<ResponseEntity<CreatedWorkspace>> create(@Valid @RequestBody CreateWorkspaceRequest request,
                                                         @AuthenticationPrincipal AtelierPrincipal caller,
                                                         ServerWebExchange exchange) {
        Access.requireAny(caller, Role.MEMBER, Role.OWNER);
        String owner = request.owner() == null ? caller.subject() : request.owner();
        if (!owner.equals(caller.subject()) && !caller.has(Role.OWNER)) {
            throw ApiProblem.forbidden("only an owner may create workspaces for somebody else (" + Text.quote(owner) + ")");
        }
        String id = UUID.randomUUID().toString();
        WorkspaceKind kind = request.kind() == null ? WorkspaceKind.HUMAN : request.kind();
        if (caller.scoped() && !(caller.scope().agentWorkspaces() && kind == WorkspaceKind.AGENT)) {
            throw ApiProblem.forbidden("this scoped token may create workspaces of kind AGENT only"
                    + (caller.scope().agentWorkspaces() ? "" : ", and it may not even do that"));
        }
        CreateWorkspaceCommand command = new CreateWorkspaceCommand(id, request.name(), owner, request.team(), kind,
                request.templateId(), request.templateVersion(), request.parameters(), request.labels(),
                request.policy(), TransitionReason.USER, caller.actor());
        return requireTeam(request.team(), owner, caller)
                .then(withinWorkspaceCap(owner))
                .then(templateUsable(request.templateId(), request.templateVersion(), caller))
                .then(gateways.<CreatedWorkspace>send(command, RequestContext.of(exchange, caller)))
                .map(created -> ResponseEntity.accepted().location(URI.create("/api/v1/workspaces/" + created.id()))
                        .body(created));
    }

    /**
     * A workspace's team must be one of its owner's teams. Owners may put a workspace in any team that exists; everybody
     * else only in a team they are in.
     */
    private Mono<Void> requireTeam(String team, String owner, AtelierPrincipal caller) {
        if (team == null) {
            return Mono.empty();
        }
        return Mono.<Void>fromRunnable(() -> {
            if (caller.has(Role.OWNER)) {
                if (!identities.teamExists(team)) {
                    throw ApiProblem.badRequest("the team in 'team' does not exist; create it first (POST /api/v1/teams)");
                }
            } else if (!identities.isMember(owner, team)) {
                throw ApiProblem.forbidden("you are not a member of the team in 'team'; a workspace's team must be one "
                        + "of its owner's teams (GET /api/v1/users/me lists yours)");
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }

    @GetMapping
    public Mono<WorkspaceQueries.Page> list(@RequestParam(required = false) String owner,
                                            @RequestParam(required = false) String team,
                                            @RequestParam(required = false) String status,
                                            @RequestParam(required = false) String templateId,
                                            @RequestParam(required = false) String kind,
                                            @RequestParam(defaultValue = "50") int limit,
                                            @RequestParam(required = false) String cursor,
                                            @AuthenticationPrincipal AtelierPrincipal caller) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw ApiProblem.badRequest("limit must be between 1 and " + MAX_PAGE);
        }
        String statusFilter = status == null ? null : parseEnum(WorkspaceStatus.class, "status", status).name();
        String kindFilter = kind == null ? null : parseEnum(WorkspaceKind.class, "kind", kind).name();
        String ownerFilter = owner;
        if (!caller.has(Role.OWNER)) {
            if (owner != null && !owner.equals(caller.subject())) {
                throw ApiProblem.forbidden("you may list only your own workspaces (owner=" + caller.subject() + ")");
            }
            ownerFilter = caller.subject();
        }
        Mono<WorkspaceQueries.Page> page = gateways.query(new WorkspaceQueries.ListWorkspaces(ownerFilter, team,
                statusFilter, templateId, kindFilter, limit, cursor), ResponseTypes.instanceOf(WorkspaceQueries.Page.class));
        // A scoped token's page holds only what its scope names (the cursor still pages through the owner's list).
        return caller.scoped() ? page.map(p -> new WorkspaceQueries.Page(p.workspaces().stream()
                .filter(view -> Access.canSee(caller, view)).toList(), p.nextCursor())) : page;
    }

    @GetMapping("/{id}")
    public Mono<WorkspaceDetail> get(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller) {
        return visible(id, caller).flatMap(view -> gateways.query(new IdleQueries.WorkspaceActivity(id),
                        ResponseTypes.optionalInstanceOf(IdleQueries.Activity.class))
                .map(activity -> new WorkspaceDetail(view, activity.orElse(null))));
    }

    /**
     * Heartbeats of the workspace agent (with the workspace's own agent token, valid only for the current build)
     * or of its owner. Not events: they feed the idle read model. An agent's beat is checked against the in-memory
     * {@link CurrentBuilds} (kept current by the events), not the read model: no query per beat, and a token is
     * refused from the moment the stop or rebuild that revokes it is stored.
     */
    @PostMapping("/{id}/activity")
    public Mono<ResponseEntity<Void>> activity(@PathVariable String id, @Valid @RequestBody ActivityRequest request,
                                               @AuthenticationPrincipal AtelierPrincipal caller) {
        Map<String, Integer> counts = request.counts();
        var claim = caller.agentClaim();
        if (claim.isPresent()) {
            return builds.current(id).map(build -> {
                // A token is minted only for a real build: one newer than the one held is that build's agent
                // reporting before a lagging read model caught up (after a miss); an older one is revoked.
                if (build.isEmpty() || !claim.get().workspaceId().equals(id)
                        || claim.get().buildNumber() < build.get().number()) {
                    throw denied(id, true, build.isPresent());
                }
                return heartbeat(id, build.get().status().name(), build.get().takesActivity(), counts);
            });
        }
        return gateways.query(new WorkspaceQueries.FindWorkspace(id), ResponseTypes.optionalInstanceOf(WorkspaceView.class))
                .flatMap(Mono::justOrEmpty)
                .filter(view -> Access.canSee(caller, view))
                .switchIfEmpty(Mono.error(() -> denied(id, false)))
                .map(view -> heartbeat(id, view.status(), WorkspaceStatus.valueOf(view.status()).takesActivity(), counts));
    }

    private ResponseEntity<Void> heartbeat(String id, String status, boolean takesActivity, Map<String, Integer> counts) {
        if (!takesActivity) {
            throw ApiProblem.conflict("workspace " + id + " is " + status + "; activity is taken only while it runs");
        }
        counts.forEach((source, connections) -> activity.heartbeat(id, source, connections));
        return ResponseEntity.noContent().build();
    }

    /** The SSH host keys of the machine a workspace's agent runs on: its {@code /etc/ssh/ssh_host_*_key.pub} lines. */
    public record HostKeysRequest(List<String> keys) {
    }

    /**
     * The workspace's agent reports its machine's SSH host keys, once per build: what the SSH gateway's hop into a VM
     * workspace checks the VM's sshd against (a VM's host key is made on its first boot, so nothing else the engine
     * can reach knows it). Only the agent's own build-bound token is taken, never a user's: a user cannot make the
     * gateway trust a server. The engine keeps the fingerprints, computed here, in an event; the first report of a
     * build is pinned (the aggregate's rule).
     */
    @PutMapping("/{id}/host-keys")
    public Mono<ResponseEntity<Map<String, Object>>> hostKeys(@PathVariable String id,
                                                              @RequestBody HostKeysRequest request,
                                                              @AuthenticationPrincipal AtelierPrincipal caller,
                                                              ServerWebExchange exchange) {
        var claim = caller.agentClaim();
        if (claim.isEmpty()) {
            throw ApiProblem.forbidden("host keys are reported by the workspace's agent, with its agent token");
        }
        if (!claim.get().workspaceId().equals(id)) {
            throw denied(id, true, false);
        }
        List<String> fingerprints;
        try {
            fingerprints = dev.atelier.gateway.ReportedHostKeys.fingerprints(request.keys());
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest(e.getMessage());
        }
        long build = claim.get().buildNumber();
        return gateways.<Boolean>send(new ReportHostKeysCommand(id, build, fingerprints),
                        RequestContext.of(exchange, caller))
                .map(recorded -> ResponseEntity.ok(Map.<String, Object>of("id", id, "buildNumber", build,
                        "fingerprints", fingerprints.stream().distinct().sorted().toList(),
                        "recorded", Boolean.TRUE.equals(recorded))));
    }

    @PostMapping("/{id}/extend")
    public Mono<ResponseEntity<Map<String, Object>>> extend(@PathVariable String id, @RequestBody ExtendRequest request,
                                                        @AuthenticationPrincipal AtelierPrincipal caller,
                                                        ServerWebExchange exchange) {
        if ((request.until() == null) == (request.duration() == null)) {
            throw ApiProblem.badRequest("give either 'until' (a time) or 'duration' (ISO-8601, e.g. PT2H)");
        }
        Instant now = Instant.now();
        Instant latest = now.plus(limits.maxExtend());
        if (request.duration() != null && (request.duration().isNegative() || request.duration().isZero()
                || request.duration().compareTo(limits.maxExtend()) > 0)) {
            throw ApiProblem.badRequest("duration must be positive and at most " + limits.maxExtend()
                    + " (atelier.limits.max-extend)");
        }
        if (request.until() != null && (!request.until().isAfter(now) || request.until().isAfter(latest))) {
            throw ApiProblem.badRequest("until must be in the future and at most " + limits.maxExtend()
                    + " from now (atelier.limits.max-extend)");
        }
        Instant until = request.until() != null ? request.until() : now.plus(request.duration());
        return visible(id, caller)
                .flatMap(view -> gateways.send(new ExtendWorkspaceCommand(id, until, caller.actor()),
                        RequestContext.of(exchange, caller)).thenReturn(view))
                .doOnNext(view -> ownerAction(view, caller))
                .map(view -> ResponseEntity.status(HttpStatus.ACCEPTED)
                        .<Map<String, Object>>body(Map.of("id", id, "keepAliveUntil", until)));
    }

    @PostMapping("/{id}/start")
    public Mono<ResponseEntity<TransitionAccepted>> start(@PathVariable String id,
                                                          @AuthenticationPrincipal AtelierPrincipal caller,
                                                          ServerWebExchange exchange) {
        return transition(id, caller, exchange, Transition.START,
                new StartWorkspaceCommand(id, TransitionReason.USER, caller.actor()));
    }

    @PostMapping("/{id}/stop")
    public Mono<ResponseEntity<TransitionAccepted>> stop(@PathVariable String id,
                                                         @AuthenticationPrincipal AtelierPrincipal caller,
                                                         ServerWebExchange exchange) {
        return transition(id, caller, exchange, Transition.STOP,
                new StopWorkspaceCommand(id, TransitionReason.USER, caller.actor()));
    }

    @DeleteMapping("/{id}")
    public Mono<ResponseEntity<TransitionAccepted>> delete(@PathVariable String id,
                                                           @RequestParam(defaultValue = "false") boolean force,
                                                           @AuthenticationPrincipal AtelierPrincipal caller,
                                                           ServerWebExchange exchange) {
        return transition(id, caller, exchange, Transition.DELETE,
                new DeleteWorkspaceCommand(id, force, TransitionReason.USER, caller.actor()));
    }

    @PostMapping("/{id}/update")
    public Mono<ResponseEntity<WorkspaceView>> update(@PathVariable String id,
                                                      @RequestBody(required = false) UpdateWorkspaceRequest request,
                                                      @AuthenticationPrincipal AtelierPrincipal caller,
                                                      ServerWebExchange exchange) {
        UpdateWorkspaceRequest body = request == null ? new UpdateWorkspaceRequest(null, null) : request;
        return visible(id, caller)
                .flatMap(view -> templateUsable(view.templateId(), body.templateVersion(), caller).thenReturn(view))
                .flatMap(view -> gateways.send(new UpdateWorkspaceCommand(id, body.templateVersion(), body.parameters(),
                        caller.actor()), RequestContext.of(exchange, caller)).thenReturn(view))
                .doOnNext(view -> ownerAction(view, caller))
                .map(view -> ResponseEntity.status(HttpStatus.ACCEPTED).body(view));
    }

    @GetMapping("/{id}/history")
    public Mono<Map<String, List<WorkspaceHistoryEntry>>> history(@PathVariable String id,
                                                                  @AuthenticationPrincipal AtelierPrincipal caller) {
        return visible(id, caller)
                .flatMap(view -> gateways.query(new WorkspaceQueries.History(id),
                        ResponseTypes.multipleInstancesOf(WorkspaceHistoryEntry.class)))
                .map(events -> Map.of("events", events));
    }

    @GetMapping("/{id}/connection")
    public Mono<Map<String, Object>> connection(@PathVariable String id,
                                                @AuthenticationPrincipal AtelierPrincipal caller,
                                                ServerWebExchange exchange) {
        return visible(id, caller).doOnNext(view -> ownerAction(view, caller)).map(view -> {
            if (!WorkspaceStatus.RUNNING.name().equals(view.status()) || view.connection() == null) {
                throw ApiProblem.conflict("workspace " + id + " is " + view.status()
                        + "; it can be reached only while RUNNING");
            }
            return Connections.describe(view, sshGateway, exchange);
        });
    }

    @GetMapping(path = "/{id}/watch", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    public Flux<ServerSentEvent<WorkspaceView>> watch(@PathVariable String id,
                                                      @AuthenticationPrincipal AtelierPrincipal caller) {
        // Open the watch before reading the current state, so that no change between the two is lost.
        return liveStreams.track(caller, Mono.fromCallable(() -> watchers.workspace(id))
                .flatMapMany(watch -> visible(id, caller)
                        .flatMapMany(initial -> stream(watch, Flux.just(initial)))
                        .doFinally(signal -> watch.close())));
    }

    @GetMapping(path = "/watch", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    public Flux<ServerSentEvent<WorkspaceView>> watchAll(@AuthenticationPrincipal AtelierPrincipal caller) {
        String owner = caller.has(Role.OWNER) ? null : caller.subject();
        return liveStreams.track(caller, Mono.fromCallable(() -> watchers.workspaces(owner))
                .flatMapMany(watch -> stream(watch, Flux.empty()).doFinally(signal -> watch.close()))
                .filter(event -> event.data() == null || Access.canSee(caller, event.data())));
    }

    private static Flux<ServerSentEvent<WorkspaceView>> stream(WorkspaceWatchers.Watch watch,
                                                               Flux<WorkspaceView> initial) {
        Flux<ServerSentEvent<WorkspaceView>> events = initial.concatWith(watch.updates())
                .map(view -> ServerSentEvent.builder(view).event("workspace").id(view.id() + ":" + view.buildNumber()
                        + ":" + view.status()).build());
        Flux<ServerSentEvent<WorkspaceView>> heartbeats = Flux.interval(SSE_HEARTBEAT)
                .map(i -> ServerSentEvent.<WorkspaceView>builder().comment("keep-alive").build());
        // Sent once the watch is registered: from here on no change is missed.
        ServerSentEvent<WorkspaceView> subscribed = ServerSentEvent.<WorkspaceView>builder().comment("subscribed").build();
        return Flux.merge(Flux.just(subscribed).concatWith(events), heartbeats).doFinally(signal -> watch.close());
    }

    private Mono<ResponseEntity<TransitionAccepted>> transition(String id, AtelierPrincipal caller,
                                                                ServerWebExchange exchange, Transition transition,
                                                                Object command) {
        return visible(id, caller)
                .flatMap(view -> gateways.<Long>send(command, RequestContext.of(exchange, caller)))
                .map(build -> ResponseEntity.status(HttpStatus.ACCEPTED)
                        .body(new TransitionAccepted(id, transition, build, transition.during())));
    }

    /**
     * At most {@code atelier.limits.workspaces-per-member} workspaces (not deleted) per owner, counted on the
     * workspace list: a burst faster than the list is updated can overshoot by the requests in flight.
     */
    private Mono<Void> withinWorkspaceCap(String owner) {
        int cap = limits.workspacesPerMember();
        if (cap <= 0) {
            return Mono.empty();
        }
        return gateways.query(new WorkspaceQueries.CountOwned(owner), ResponseTypes.instanceOf(Long.class))
                .flatMap(count -> count >= cap
                        ? Mono.error(ApiProblem.tooMany(Text.quote(owner) + " already has " + count + " workspaces "
                        + "(atelier.limits.workspaces-per-member: " + cap + "); delete one first"))
                        : Mono.empty());
    }

    /**
     * Members may use a template's released versions only (the active one, or one that was active once) and no
     * archived template; owners and template admins may also try out a version published with activate: false.
     */
    private Mono<Void> templateUsable(String templateId, Integer version, AtelierPrincipal caller) {
        if (caller.hasAny(Role.OWNER, Role.TEMPLATE_ADMIN) || templateId == null) {
            return Mono.empty();
        }
        return gateways.query(new TemplateQueries.FindTemplate(templateId),
                        ResponseTypes.optionalInstanceOf(TemplateView.class))
                .flatMap(found -> {
                    if (found.isEmpty()) {
                        return Mono.empty(); // the aggregate says it does not exist
                    }
                    TemplateView template = found.get();
                    if (template.archived()) {
                        return Mono.error(ApiProblem.conflict("template " + Text.quote(templateId)
                                + " is archived; new workspaces cannot use it"));
                    }
                    if (version != null && template.versions().stream()
                            .anyMatch(v -> v.version() == version && !v.released())) {
                        return Mono.error(ApiProblem.forbidden("version " + version + " of template "
                                + Text.quote(templateId) + " was published without being activated; only owners "
                                + "and template admins may use it"));
                    }
                    return Mono.empty();
                });
    }

    /**
     * Activity for a workspace the caller may not post to: the same 404 as for one that does not exist, recorded as
     * {@code denied} when the workspace exists (somebody else's, or another build's agent token).
     */
    private ApiProblem denied(String id, boolean agent) {
        boolean exists = gateways.queryGateway().query(new WorkspaceQueries.FindWorkspace(id),
                ResponseTypes.optionalInstanceOf(WorkspaceView.class)).join().isPresent();
        return denied(id, agent, exists);
    }

    private static ApiProblem denied(String id, boolean agent, boolean exists) {
        String detail = "workspace " + Text.quote(id) + " does not exist"
                + (agent ? " for this agent token (it is valid for one build only)" : "");
        return exists ? ApiProblem.concealedNotFound(detail) : ApiProblem.notFound(detail);
    }

    /** The owner doing something with the workspace through the API counts as use (not idle). */
    private void ownerAction(WorkspaceView view, AtelierPrincipal caller) {
        if (caller.subject().equals(view.owner())) {
            activity.ownerAction(view.id());
        }
    }

    /**
     * The workspace if it exists and the caller may see it; otherwise 404 either way (the audit trail records the
     * first case as a denial).
     */
    private Mono<WorkspaceView> visible(String id, AtelierPrincipal caller) {
        return gateways.query(new WorkspaceQueries.FindWorkspace(id), ResponseTypes.optionalInstanceOf(WorkspaceView.class))
                .flatMap(found -> visibleOrNotFound(found, id, caller));
    }

    private static Mono<WorkspaceView> visibleOrNotFound(java.util.Optional<WorkspaceView> found, String id,
                                                         AtelierPrincipal caller) {
        String detail = "workspace " + Text.quote(id) + " does not exist";
        if (found.isEmpty()) {
            return Mono.error(ApiProblem.notFound(detail));
        }
        return Access.canSee(caller, found.get()) ? Mono.just(found.get())
                : Mono.error(ApiProblem.concealedNotFound(detail));
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String name, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest(name + " " + Text.quote(value) + " is unknown (allowed: "
                    + java.util.Arrays.toString(type.getEnumConstants()) + ")");
        }
    }
}
