package dev.atelier.api;

import dev.atelier.domain.shared.Text;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.atelier.domain.template.ArchiveTemplateCommand;
import dev.atelier.domain.template.CreateTemplateCommand;
import dev.atelier.domain.template.LifecyclePolicy;
import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.PublishTemplateVersionCommand;
import dev.atelier.domain.template.SetActiveTemplateVersionCommand;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.template.TemplateParameter;
import dev.atelier.projections.templates.TemplateQueries;
import dev.atelier.projections.templates.TemplateView;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Templates: published by owners and template admins, readable by every user role (not by workspace agents). The
 * values of {@code env} in a spec (secrets, in practice) are shown only to owners and template admins; everybody else
 * sees the names with {@value #MASK} as value.
 */
@RestController
@RequestMapping("/api/v1/templates")
public class TemplateController {

    static final String MASK = "********";
    private static final Role[] READERS = {Role.OWNER, Role.TEMPLATE_ADMIN, Role.MEMBER, Role.AUDITOR, Role.FINANCE};

    private final Gateways gateways;

    public TemplateController(Gateways gateways) {
        this.gateways = gateways;
    }

    public record CreateTemplateRequest(@NotBlank @Size(max = 63) String name, @Size(max = 2000) String description,
                                        @NotBlank String provider, Map<String, Object> spec,
                                        List<TemplateParameter> parameters, LifecyclePolicy policy, Pricing pricing) {
        TemplateDefinition definition() {
            return new TemplateDefinition(provider, spec, parameters, policy, pricing);
        }
    }

    public record PublishVersionRequest(@NotBlank String provider, Map<String, Object> spec,
                                        List<TemplateParameter> parameters, LifecyclePolicy policy, Pricing pricing,
                                        Boolean activate) {
    }

    public record ActiveVersionRequest(@NotNull Integer version) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TemplateResponse(String id, String name, String description, int version, int latestVersion,
                                   boolean archived, String provider, Map<String, Object> spec,
                                   List<TemplateParameter> parameters, LifecyclePolicy policy, Pricing pricing,
                                   String createdBy, Instant createdAt, Instant updatedAt, List<VersionSummary> versions) {

        static TemplateResponse of(TemplateView view) {
            return of(view, true);
        }

        /** @param secrets whether {@code env} values may be shown (owner, template admin) */
        static TemplateResponse of(TemplateView view, boolean secrets) {
            TemplateDefinition active = view.versions().stream().filter(v -> v.version() == view.activeVersion())
                    .findFirst().map(TemplateView.Version::definition).orElseThrow();
            Map<String, Object> spec = secrets ? active.spec() : maskEnv(active.spec());
            return new TemplateResponse(view.id(), view.name(), view.description(), view.activeVersion(),
                    view.latestVersion(), view.archived(), active.provider(), spec, active.parameters(),
                    active.policy(), active.pricing(), view.createdBy(), view.createdAt(), view.updatedAt(),
                    view.versions().stream().map(v -> new VersionSummary(v.version(), v.definition().provider(),
                            v.publishedBy(), v.publishedAt())).toList());
        }
    }

    /** The spec with every {@code env} map's values (at any depth, sidecars too) replaced by {@value #MASK}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> maskEnv(Map<String, Object> spec) {
        if (spec == null) {
            return null;
        }
        Map<String, Object> masked = new java.util.LinkedHashMap<>();
        spec.forEach((key, value) -> masked.put(key, "env".equals(key) && value instanceof Map<?, ?> env
                ? maskValues(env) : mask(value)));
        return masked;
    }

    @SuppressWarnings("unchecked")
    private static Object mask(Object value) {
        if (value instanceof Map<?, ?> map) {
            return maskEnv((Map<String, Object>) map);
        }
        if (value instanceof List<?> list) {
            return list.stream().map(TemplateController::mask).toList();
        }
        return value;
    }

    private static Map<String, Object> maskValues(Map<?, ?> env) {
        Map<String, Object> masked = new java.util.LinkedHashMap<>();
        env.forEach((k, v) -> masked.put(String.valueOf(k), MASK));
        return masked;
    }

    public record VersionSummary(int version, String provider, String publishedBy, Instant publishedAt) {
    }

    @PostMapping
    public Mono<ResponseEntity<TemplateResponse>> create(@Valid @RequestBody CreateTemplateRequest request,
                                                         @AuthenticationPrincipal AtelierPrincipal caller,
                                                         ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER, Role.TEMPLATE_ADMIN);
        String id = UUID.randomUUID().toString();
        RequestContext context = RequestContext.of(exchange, caller);
        return gateways.send(new CreateTemplateCommand(id, request.name(), request.description(), request.definition(),
                        caller.actor()), context)
                .then(find(id))
                .map(view -> ResponseEntity.created(URI.create("/api/v1/templates/" + id)).body(TemplateResponse.of(view)));
    }

    @PostMapping("/{id}/versions")
    public Mono<ResponseEntity<TemplateResponse>> publish(@PathVariable String id,
                                                          @Valid @RequestBody PublishVersionRequest request,
                                                          @AuthenticationPrincipal AtelierPrincipal caller,
                                                          ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER, Role.TEMPLATE_ADMIN);
        TemplateDefinition definition = new TemplateDefinition(request.provider(), request.spec(), request.parameters(),
                request.policy(), request.pricing());
        boolean activate = request.activate() == null || request.activate();
        return gateways.send(new PublishTemplateVersionCommand(id, definition, activate, caller.actor()),
                        RequestContext.of(exchange, caller))
                .then(find(id))
                .map(view -> ResponseEntity.status(HttpStatus.CREATED).body(TemplateResponse.of(view)));
    }

    @PostMapping("/{id}/active-version")
    public Mono<TemplateResponse> activate(@PathVariable String id, @Valid @RequestBody ActiveVersionRequest request,
                                           @AuthenticationPrincipal AtelierPrincipal caller,
                                           ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER, Role.TEMPLATE_ADMIN);
        return gateways.send(new SetActiveTemplateVersionCommand(id, request.version(), caller.actor()),
                RequestContext.of(exchange, caller)).then(find(id)).map(TemplateResponse::of);
    }

    @PostMapping("/{id}/archive")
    public Mono<TemplateResponse> archive(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                          ServerWebExchange exchange) {
        Access.requireAny(caller, Role.OWNER, Role.TEMPLATE_ADMIN);
        return gateways.send(new ArchiveTemplateCommand(id, caller.actor()), RequestContext.of(exchange, caller))
                .then(find(id)).map(TemplateResponse::of);
    }

    @GetMapping
    public Mono<Map<String, List<TemplateResponse>>> list(@RequestParam(defaultValue = "false") boolean includeArchived,
                                                          @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, READERS);
        boolean secrets = caller.hasAny(Role.OWNER, Role.TEMPLATE_ADMIN);
        return gateways.query(new TemplateQueries.ListTemplates(includeArchived),
                        ResponseTypes.multipleInstancesOf(TemplateView.class))
                .map(views -> Map.of("templates", views.stream().map(v -> TemplateResponse.of(v, secrets)).toList()));
    }

    @GetMapping("/{id}")
    public Mono<TemplateResponse> get(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller) {
        Access.requireAny(caller, READERS);
        boolean secrets = caller.hasAny(Role.OWNER, Role.TEMPLATE_ADMIN);
        return find(id).map(v -> TemplateResponse.of(v, secrets));
    }

    private Mono<TemplateView> find(String id) {
        return gateways.query(new TemplateQueries.FindTemplate(id), ResponseTypes.optionalInstanceOf(TemplateView.class))
                .flatMap(Mono::justOrEmpty)
                .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("template " + Text.quote(id) + " does not exist")));
    }
}
