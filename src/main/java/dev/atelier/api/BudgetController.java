package dev.atelier.api;

import dev.atelier.domain.shared.Text;

import dev.atelier.domain.budget.Budget;
import dev.atelier.domain.budget.BudgetAction;
import dev.atelier.domain.budget.BudgetPeriod;
import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.domain.budget.SetBudgetCommand;
import dev.atelier.projections.cost.BudgetQueries;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.queryhandling.SubscriptionQueryResult;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
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

import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Budgets per team or owner and month (roles {@code finance} and {@code owner}). Setting a budget for the same scope
 * and name again changes it: raising a used-up budget lets starts through at once. {@code GET /watch} streams every
 * budget change and threshold crossing as server-sent events.
 */
@RestController
@RequestMapping("/api/v1/budgets")
public class BudgetController {

    private static final Duration SSE_HEARTBEAT = Duration.ofSeconds(15);

    private final Gateways gateways;
    private final IdentityReadModel identities;
    private final LiveStreams liveStreams;

    public BudgetController(Gateways gateways, IdentityReadModel identities, LiveStreams liveStreams) {
        this.gateways = gateways;
        this.identities = identities;
        this.liveStreams = liveStreams;
    }

    public record BudgetRequest(@NotNull String scope, @NotBlank @Size(max = 100) String name,
                                @NotNull BigDecimal amount, @NotBlank String currency, String period,
                                @NotNull String action) {
    }

    /** The same without scope and name, which the path gives. */
    public record BudgetChange(@NotNull BigDecimal amount, @NotBlank String currency, String period,
                               @NotNull String action) {
    }

    @PostMapping
    public Mono<ResponseEntity<BudgetQueries.BudgetView>> set(@Valid @RequestBody BudgetRequest request,
                                                              @AuthenticationPrincipal AtelierPrincipal caller,
                                                              ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        return set(parse(BudgetScope.class, "scope", request.scope()), request.name(), request.amount(),
                request.currency(), request.period(), request.action(), caller, exchange);
    }

    @PutMapping("/{scope}/{name}")
    public Mono<ResponseEntity<BudgetQueries.BudgetView>> change(@PathVariable String scope, @PathVariable String name,
                                                                 @Valid @RequestBody BudgetChange request,
                                                                 @AuthenticationPrincipal AtelierPrincipal caller,
                                                                 ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        return set(parse(BudgetScope.class, "scope", scope), name, request.amount(), request.currency(),
                request.period(), request.action(), caller, exchange);
    }

    @GetMapping
    public Mono<Map<String, List<BudgetQueries.BudgetView>>> list(@AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        return gateways.query(new BudgetQueries.ListBudgets(),
                ResponseTypes.multipleInstancesOf(BudgetQueries.BudgetView.class)).map(list -> Map.of("budgets", list));
    }

    @GetMapping("/{scope}/{name}")
    public Mono<BudgetQueries.BudgetDetail> get(@PathVariable String scope, @PathVariable String name,
                                                @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        String id = Budget.idOf(parse(BudgetScope.class, "scope", scope), name);
        return find(id).switchIfEmpty(Mono.error(() -> ApiProblem.notFound("there is no budget for " + Text.quote(scope) + " "
                + Text.quote(name))));
    }

    /** Budget changes, 80 %/100 % crossings and releases as they happen ({@code event: budget}). */
    @GetMapping(path = "/watch", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    public Flux<ServerSentEvent<BudgetQueries.BudgetNotice>> watch(@AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, Role.OWNER, Role.FINANCE);
        return liveStreams.track(caller, Mono.fromCallable(() -> gateways.queryGateway().subscriptionQuery(new BudgetQueries.WatchBudgets(),
                        ResponseTypes.multipleInstancesOf(BudgetQueries.BudgetNotice.class),
                        ResponseTypes.instanceOf(BudgetQueries.BudgetNotice.class)))
                .subscribeOn(Schedulers.boundedElastic())
                .flatMapMany(BudgetController::stream));
    }

    private static Flux<ServerSentEvent<BudgetQueries.BudgetNotice>> stream(
            SubscriptionQueryResult<List<BudgetQueries.BudgetNotice>, BudgetQueries.BudgetNotice> subscription) {
        Flux<ServerSentEvent<BudgetQueries.BudgetNotice>> events = subscription.updates()
                .map(n -> ServerSentEvent.builder(n).event("budget").build());
        Flux<ServerSentEvent<BudgetQueries.BudgetNotice>> heartbeats = Flux.interval(SSE_HEARTBEAT)
                .map(i -> ServerSentEvent.<BudgetQueries.BudgetNotice>builder().comment("keep-alive").build());
        // Sent once the subscription is registered (as the workspace streams do): from here on no change is missed,
        // and the answer's headers go out at once, so that a client knows the stream is open.
        ServerSentEvent<BudgetQueries.BudgetNotice> subscribed = ServerSentEvent.<BudgetQueries.BudgetNotice>builder()
                .comment("subscribed").build();
        return Flux.merge(Flux.just(subscribed).concatWith(events), heartbeats).doFinally(signal -> subscription.close());
    }

    private Mono<ResponseEntity<BudgetQueries.BudgetView>> set(BudgetScope scope, String name, BigDecimal amount,
                                                               String currency, String period, String action,
                                                               AtelierPrincipal caller, ServerWebExchange exchange) {
        BudgetPeriod budgetPeriod = period == null ? BudgetPeriod.MONTH : parse(BudgetPeriod.class, "period", period);
        BudgetAction budgetAction = parse(BudgetAction.class, "action", action);
        String id = Budget.idOf(scope, name);
        SetBudgetCommand command = new SetBudgetCommand(id, scope, name, amount, currency, budgetPeriod, budgetAction,
                caller.actor());
        URI location = URI.create("/api/v1/budgets/" + scope.id() + "/" + URLEncoder.encode(name, StandardCharsets.UTF_8)
                .replace("+", "%20"));
        // A team budget names a real team (GET /api/v1/teams); an owner budget any owner.
        Mono<Void> realTeam = scope != BudgetScope.TEAM ? Mono.empty() : Mono.<Void>fromRunnable(() -> {
            if (!identities.teamExists(name)) {
                throw ApiProblem.badRequest("the team this budget names does not exist; create it first "
                        + "(POST /api/v1/teams)");
            }
        }).subscribeOn(Schedulers.boundedElastic());
        return realTeam.then(find(id)).map(existing -> true).defaultIfEmpty(false)
                .flatMap(existed -> gateways.send(command, RequestContext.of(exchange, caller))
                        .then(Mono.defer(() -> find(id)))
                        .map(detail -> existed ? ResponseEntity.ok().location(location).body(detail.budget())
                                : ResponseEntity.status(HttpStatus.CREATED).location(location).body(detail.budget())));
    }

    private Mono<BudgetQueries.BudgetDetail> find(String id) {
        return gateways.query(new BudgetQueries.FindBudget(id),
                ResponseTypes.optionalInstanceOf(BudgetQueries.BudgetDetail.class)).flatMap(Mono::justOrEmpty);
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String name, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest(name + " " + Text.quote(value) + " is unknown (allowed: " + java.util.Arrays.stream(
                    type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT))
                    .collect(java.util.stream.Collectors.joining(", ")) + ")");
        }
    }
}
