package dev.atelier.api;

import dev.atelier.domain.shared.Text;
import dev.atelier.provider.HostPool;
import dev.atelier.provider.ProviderAudit;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
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
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * The SSH host pool: {@code /api/v1/hosts}, for role {@code owner} only. Exists when the ssh provider is enabled;
 * the provider holds the pool ({@link HostPool}), this controller its HTTP API, with the role check every controller
 * makes and every change in the audit trail (through {@link ProviderAudit}, with the details the trail had before).
 */
@RestController
@RequestMapping("/api/v1/hosts")
@ConditionalOnProperty(prefix = "atelier.providers.ssh", name = "enabled", havingValue = "true")
public class HostController {

    static final String RESOURCE = "ssh-host";

    private final HostPool hosts;
    private final ProviderAudit audit;

    public HostController(HostPool hosts, ProviderAudit audit) {
        this.hosts = hosts;
        this.audit = audit;
    }

    public record HostList(
            List<HostPool.Host> hosts) {
    }

    /** A check of one host, as the API shows it. */
    public record HostCheck(
            String hostId,
            boolean ok,
            String detail) {
    }

    /** Unknown fields in the body are refused like everywhere in the API. */
    @PostMapping
    public Mono<ResponseEntity<HostPool.Host>> register(@RequestBody HostPool.Definition request,
                                                        @AuthenticationPrincipal AtelierPrincipal caller,
                                                        ServerWebExchange exchange) {
        return owner(caller, () -> {
            HostPool.Host view = hosts.register(request);
            audit.record(exchange, "create", RESOURCE, view.id(), true, describe(view));
            return ResponseEntity.status(HttpStatus.CREATED).body(view);
        });
    }

    @GetMapping
    public Mono<HostList> list(@AuthenticationPrincipal AtelierPrincipal caller) {
        return owner(caller, () -> new HostList(hosts.list()));
    }

    @GetMapping("/{id}")
    public Mono<HostPool.Host> get(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller) {
        return owner(caller, () -> hosts.find(id).orElseThrow(() -> notFound(id)));
    }

    @PutMapping("/{id}")
    public Mono<HostPool.Host> update(@PathVariable String id, @RequestBody HostPool.Definition request,
                                      @AuthenticationPrincipal AtelierPrincipal caller, ServerWebExchange exchange) {
        return owner(caller, () -> {
            HostPool.Host before = hosts.find(id).orElseThrow(() -> notFound(id));
            HostPool.Host view = hosts.update(id, request).orElseThrow(() -> notFound(id));
            Map<String, String> details = describe(view);
            boolean keyChanged = !Objects.equals(before.hostKeyFingerprint(), view.hostKeyFingerprint());
            details.put("hostFingerprintChanged", Boolean.toString(keyChanged));
            if (keyChanged && before.hostKeyFingerprint() != null) {
                details.put("previousHostFingerprint", before.hostKeyFingerprint());
            }
            if (!Objects.equals(before.address(), view.address()) || before.port() != view.port()) {
                details.put("previousAddress", before.address() + ":" + before.port());
            }
            audit.record(exchange, "update", RESOURCE, id, true, details);
            return view;
        });
    }

    @DeleteMapping("/{id}")
    public Mono<ResponseEntity<Void>> delete(@PathVariable String id,
                                             @RequestParam(name = "force", defaultValue = "false") boolean force,
                                             @AuthenticationPrincipal AtelierPrincipal caller,
                                             ServerWebExchange exchange) {
        return owner(caller, () -> {
            HostPool.Host host = hosts.delete(id, force).orElseThrow(() -> notFound(id));
            Map<String, String> details = new LinkedHashMap<>();
            details.put("name", host.name());
            details.put("force", Boolean.toString(force));
            audit.record(exchange, "delete", RESOURCE, id, true, details);
            return ResponseEntity.noContent().<Void>build();
        });
    }

    /** Logs in to the host with its key, checking its host key; recorded with its result (a key mismatch shows). */
    @PostMapping("/{id}/check")
    public Mono<HostCheck> check(@PathVariable String id, @AuthenticationPrincipal AtelierPrincipal caller,
                                 ServerWebExchange exchange) {
        return owner(caller, () -> {
            HostPool.Check check = hosts.check(id).orElseThrow(() -> notFound(id));
            HostCheck result = new HostCheck(id, check.ok(), check.detail());
            Map<String, String> details = new LinkedHashMap<>();
            String detail = result.detail() == null ? "" : result.detail();
            details.put("result", detail.length() <= 300 ? detail : detail.substring(0, 300));
            audit.record(exchange, "check", RESOURCE, id, result.ok(), details);
            return result;
        });
    }

    /** Detail keys avoid the word "key": the audit trail masks those as secrets, and a host's fingerprint is not one. */
    private static Map<String, String> describe(HostPool.Host view) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("name", view.name());
        details.put("address", view.address() + ":" + view.port());
        details.put("user", view.user());
        if (view.hostKeyFingerprint() != null) {
            details.put("hostFingerprint", view.hostKeyFingerprint());
        }
        details.put("capacity", Integer.toString(view.capacity()));
        return details;
    }

    private static ApiProblem notFound(String id) {
        return ApiProblem.notFound("no SSH host with id " + Text.quote(id)); // an escaped, bounded prefix of the input
    }

    /** Owners only; database and SSH work runs off the event loop; refused definitions 400, pool conflicts 409. */
    private static <T> Mono<T> owner(AtelierPrincipal caller, Callable<T> work) {
        if (caller == null || !caller.has(Role.OWNER)) {
            return Mono.error(ApiProblem.forbidden("managing SSH hosts needs the role owner"));
        }
        return Mono.fromCallable(() -> {
            try {
                return work.call();
            } catch (HostPool.InvalidHost e) {
                throw ApiProblem.badRequest(e.getMessage());
            } catch (HostPool.Conflict e) {
                throw ApiProblem.conflict(e.getMessage());
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }
}
