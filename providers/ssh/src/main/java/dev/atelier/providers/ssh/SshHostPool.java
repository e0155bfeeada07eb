package dev.atelier.providers.ssh;

import dev.atelier.provider.HostPool;
import dev.atelier.provider.ProviderException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The ssh provider's {@link HostPool}: the host registry and a login check. The API over it is the engine's
 * ({@code dev.atelier.api.HostController}).
 */
public class SshHostPool implements HostPool {

    private final SshHostRegistry hosts;
    private final SshConnector ssh;

    public SshHostPool(SshHostRegistry hosts, SshConnector ssh) {
        this.hosts = hosts;
        this.ssh = ssh;
    }

    @Override
    public Host register(Definition definition) {
        try {
            return view(hosts.create(checked(definition)));
        } catch (SshHostRegistry.NameTakenException e) {
            throw new Conflict(e.getMessage());
        }
    }

    @Override
    public List<Host> list() {
        Map<String, Integer> used = hosts.usage();
        return hosts.list().stream().map(h -> view(h, used)).toList();
    }

    @Override
    public Optional<Host> find(String id) {
        return hosts.find(id).map(this::view);
    }

    @Override
    public Optional<Host> update(String id, Definition definition) {
        try {
            return hosts.update(id, checked(definition)).map(this::view);
        } catch (SshHostRegistry.NameTakenException e) {
            throw new Conflict(e.getMessage());
        }
    }

    @Override
    public Optional<Host> delete(String id, boolean force) {
        Optional<SshHost> host = hosts.find(id);
        if (host.isEmpty()) {
            return Optional.empty();
        }
        try {
            if (!hosts.delete(id, force)) {
                return Optional.empty();
            }
        } catch (SshHostRegistry.HostInUseException e) {
            throw new Conflict(e.getMessage());
        }
        ssh.forget(host.get());
        return Optional.of(view(host.get(), Map.of()));
    }

    @Override
    public Optional<Check> check(String id) {
        Optional<SshHost> found = hosts.find(id);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        SshHost host = found.get();
        ssh.forget(host);
        try {
            String detail = ssh.withSession(host, s -> {
                SshConnector.Result r = s.exec("uname -sr && command -v setsid >/dev/null && echo setsid ok");
                return r.output();
            });
            boolean ok = detail.contains("setsid ok");
            return Optional.of(new Check(ok, ok ? detail.replace("\nsetsid ok", "") + "; host key and login OK"
                    : "logged in, but setsid is missing (install util-linux): " + detail));
        } catch (ProviderException e) {
            return Optional.of(new Check(false, e.getMessage()));
        }
    }

    private HostDefinition checked(Definition r) {
        HostDefinition.Checked checked = HostDefinition.check(r.name(), r.address(), r.port(), r.user(), r.keyRef(),
                r.hostKeyFingerprint(), r.capacity(), r.labels(), r.directory());
        if (!checked.problems().isEmpty()) {
            throw new InvalidHost("invalid host: " + String.join("; ", checked.problems()));
        }
        String keyProblem = ssh.keyProblem(r.keyRef());
        if (keyProblem != null) {
            throw new InvalidHost("invalid host: " + keyProblem);
        }
        return checked.definition();
    }

    private Host view(SshHost h) {
        return view(h, hosts.usage());
    }

    private static Host view(SshHost h, Map<String, Integer> used) {
        return new Host(h.id(), h.name(), h.address(), h.port(), h.user(), h.keyRef(), h.hostKeyFingerprint(),
                h.capacity(), used.getOrDefault(h.id(), 0), new LinkedHashMap<>(h.labels()), h.directory(),
                h.createdAt(), h.updatedAt());
    }
}
