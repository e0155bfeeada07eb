package dev.atelier.provider;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pool of machines that a provider places workspaces on and that owners manage through the API
 * ({@code /api/v1/hosts}): today the ssh provider's bare-metal hosts. The engine's controller speaks to the pool only
 * through this interface, so that the HTTP API, its role checks and its audit stay in the engine and the provider
 * keeps only the registry and the SSH logins.
 */
public interface HostPool {

    /**
     * What an owner registers about a host, as sent; the pool checks and completes it (port 22 and the default
     * directory when left out).
     */
    record Definition(
            String name,
            String address,
            Integer port,
            String user,
            String keyRef,
            String hostKeyFingerprint,
            Integer capacity,
            Map<String, String> labels,
            String directory) {
    }

    /** A registered host with how many workspaces it holds. */
    record Host(
            String id,
            String name,
            String address,
            int port,
            String user,
            String keyRef,
            String hostKeyFingerprint,
            int capacity,
            int used,
            Map<String, String> labels,
            String directory,
            Instant createdAt,
            Instant updatedAt) {
    }

    /** The result of logging in to a host with its registered key and fingerprint. */
    record Check(
            boolean ok,
            String detail) {
    }

    /** A definition the pool refuses; the message names every field that is wrong and never a secret. */
    class InvalidHost extends RuntimeException {
        public InvalidHost(String message) {
            super(message);
        }
    }

    /** A change that conflicts with the pool: a name that is taken, a host that still holds workspaces. */
    class Conflict extends RuntimeException {
        public Conflict(String message) {
            super(message);
        }
    }

    /** @throws InvalidHost for a wrong definition, {@link Conflict} for a name that is taken */
    Host register(Definition definition);

    List<Host> list();

    Optional<Host> find(String id);

    /** @return empty when there is no such host; throws as {@link #register} */
    Optional<Host> update(String id, Definition definition);

    /**
     * Removes the host and forgets its logins; with {@code force} also the placements of workspaces still on it.
     *
     * @return the removed host, empty when there is no such host
     * @throws Conflict when workspaces still live on the host and {@code force} is false
     */
    Optional<Host> delete(String id, boolean force);

    /** Logs in afresh with the host's key, checking its host key, and runs a harmless command; empty for no host. */
    Optional<Check> check(String id);
}
