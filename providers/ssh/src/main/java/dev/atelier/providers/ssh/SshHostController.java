package dev.atelier.providers.ssh;

import dev.atelier.provider.ProviderException;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import dev.atelier.provider.ProviderAudit;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The SSH host pool: {@code /api/v1/hosts}, for role {@code owner} only. Exists when the ssh provider is enabled.
 * Errors are problem+json through the engine's error handler.
 */
@RestController
@RequestMapping("/api/v1/hosts")
@ConditionalOnProperty(prefix = "atelier.providers.ssh", name = "enabled", havingValue = "true")
public class SshHostController {

    static final String RESOURCE = "ssh-host";

    private final SshHostRegistry hosts;
    private final SshConnector ssh;
    private final ProviderAudit audit;

    public SshHostController(SshHostRegistry hosts, SshConnector ssh, ProviderAudit audit) {
        this.hosts = hosts;
        this.ssh = ssh;
        this.audit = audit;
    }

    /** A host as registered by an owner; unknown fields are refused like everywhere in the API. */
    public record HostRequest(String name, String address, Integer port, String user, String keyRef,
                              String hostKeyFingerprint, Integer capacity, Map<String, String> labels,
                              String directory) {
    }

    /** A host as the API shows it, with how many workspaces it holds. */
    public record HostView(String id, String name, String address, int port, String user, String keyRef,
                           String hostKeyFingerprint, int capacity, int used, Map<String, String> labels,
                           String directory, Instant createdAt, Instant updatedAt) {
    }

    public record HostList(List<HostView> hosts) {
    }

    /** The result of logging in to a host with its registered key and fingerprint. */
    public record HostCheck(String hostId, boolean ok, String detail) {
    }

    @PostMapping
    public Mono<ResponseEntity<HostView>> register(@RequestBody HostRequest request, Authentication caller,
                                                   ServerWebExchange exchange) {
        return owner(caller, () -> {
            HostView view = view(hosts.create(definition(request)));
            audit.record(exchange, "create", RESOURCE, view.id(), true, describe(view));
            return ResponseEntity.status(HttpStatus.CREATED).body(view);
        });
    }

    @GetMapping
    public Mono<HostList> list(Authentication caller) {
        return owner(caller, () -> {
            Map<String, Integer> used = hosts.usage();
            return new HostList(hosts.list().stream().map(h -> view(h, used)).toList());
        });
    }

    @GetMapping("/{id}")
    public Mono<HostView> get(@PathVariable String id, Authentication caller) {
        return owner(caller, () -> view(hosts.find(id).orElseThrow(() -> notFound(id))));
    }

    @PutMapping("/{id}")
    public Mono<HostView> update(@PathVariable String id, @RequestBody HostRequest request, Authentication caller,
                                 ServerWebExchange exchange) {
        return owner(caller, () -> {
            SshHost before = hosts.find(id).orElseThrow(() -> notFound(id));
            HostView view = view(hosts.update(id, definition(request)).orElseThrow(() -> notFound(id)));
            Map<String, String> details = describe(view);
            boolean keyChanged = !java.util.Objects.equals(before.hostKeyFingerprint(), view.hostKeyFingerprint());
            details.put("hostFingerprintChanged", Boolean.toString(keyChanged));
            if (keyChanged && before.hostKeyFingerprint() != null) {
                details.put("previousHostFingerprint", before.hostKeyFingerprint());
            }
            if (!java.util.Objects.equals(before.address(), view.address()) || before.port() != view.port()) {
                details.put("previousAddress", before.address() + ":" + before.port());
            }
            audit.record(exchange, "update", RESOURCE, id, true, details);
            return view;
        });
    }

    @DeleteMapping("/{id}")
    public Mono<ResponseEntity<Void>> delete(@PathVariable String id,
                                             @RequestParam(name = "force", defaultValue = "false") boolean force,
                                             Authentication caller, ServerWebExchange exchange) {
        return owner(caller, () -> {
            SshHost host = hosts.find(id).orElseThrow(() -> notFound(id));
            if (!hosts.delete(id, force)) {
                throw notFound(id);
            }
            ssh.forget(host);
            Map<String, String> details = new LinkedHashMap<>();
            details.put("name", host.name());
            details.put("force", Boolean.toString(force));
            audit.record(exchange, "delete", RESOURCE, id, true, details);
            return ResponseEntity.noContent().<Void>build();
        });
    }

    /** Logs in to the host with its key, checking its host key, and runs a harmless command. */
    @PostMapping("/{id}/check")
    public Mono<HostCheck> check(@PathVariable String id, Authentication caller, ServerWebExchange exchange) {
        return owner(caller, () -> checked(exchange, id, () -> {
            SshHost host = hosts.find(id).orElseThrow(() -> notFound(id));
            ssh.forget(host);
            try {
                String detail = ssh.withSession(host, s -> {
                    SshConnector.Result r = s.exec("uname -sr && command -v setsid >/dev/null && echo setsid ok");
                    return r.output();
                });
                boolean ok = detail.contains("setsid ok");
                return new HostCheck(id, ok, ok ? detail.replace("\nsetsid ok", "") + "; host key and login OK"
                        : "logged in, but setsid is missing (install util-linux): " + detail);
            } catch (ProviderException e) {
                return new HostCheck(id, false, e.getMessage());
            }
        }));
    }

    /** A check is recorded with its result (a host key mismatch shows here). */
    private HostCheck checked(ServerWebExchange exchange, String id, Callable<HostCheck> check) throws Exception {
        HostCheck result = check.call();
        Map<String, String> details = new LinkedHashMap<>();
        String detail = result.detail() == null ? "" : result.detail();
        details.put("result", detail.length() <= 300 ? detail : detail.substring(0, 300));
        audit.record(exchange, "check", RESOURCE, id, result.ok(), details);
        return result;
    }

    /** Detail keys avoid the word "key": the audit trail masks those as secrets, and a host's fingerprint is not one. */
    private static Map<String, String> describe(HostView view) {
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

    private HostDefinition definition(HostRequest r) {
        HostDefinition.Checked checked = HostDefinition.check(r.name(), r.address(), r.port(), r.user(), r.keyRef(),
                r.hostKeyFingerprint(), r.capacity(), r.labels(), r.directory());
        if (!checked.problems().isEmpty()) {
            throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "invalid host: "
                    + String.join("; ", checked.problems()));
        }
        String keyProblem = ssh.keyProblem(r.keyRef());
        if (keyProblem != null) {
            throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "invalid host: " + keyProblem);
        }
        return checked.definition();
    }

    private HostView view(SshHost h) {
        return view(h, hosts.usage());
    }

    private static HostView view(SshHost h, Map<String, Integer> used) {
        return new HostView(h.id(), h.name(), h.address(), h.port(), h.user(), h.keyRef(), h.hostKeyFingerprint(),
                h.capacity(), used.getOrDefault(h.id(), 0), new LinkedHashMap<>(h.labels()), h.directory(),
                h.createdAt(), h.updatedAt());
    }

    private static ResponseStatusException notFound(String id) {
        return new ResponseStatusException(HttpStatus.NOT_FOUND, "no SSH host with id " + id);
    }

    /** Owners only; database and SSH work runs off the event loop; registry conflicts become 409. */
    private static <T> Mono<T> owner(Authentication caller, Callable<T> work) {
        boolean owner = caller != null && caller.getAuthorities().stream()
                .anyMatch(a -> "ROLE_owner".equals(a.getAuthority()));
        if (!owner) {
            return Mono.error(new ResponseStatusException(HttpStatus.FORBIDDEN,
                    "managing SSH hosts needs the role owner"));
        }
        return Mono.fromCallable(() -> {
            try {
                return work.call();
            } catch (SshHostRegistry.NameTakenException | SshHostRegistry.HostInUseException e) {
                throw new ResponseStatusException(HttpStatus.CONFLICT, e.getMessage());
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }
}
