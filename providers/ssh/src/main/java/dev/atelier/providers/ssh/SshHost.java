package dev.atelier.providers.ssh;

import java.time.Instant;
import java.util.Map;

/**
 * A registered bare-metal host. {@code keyRef} names a private key file in the engine's key directory (the key
 * itself is never stored in the database); {@code hostKeyFingerprint} ({@code SHA256:...}) is the only host key
 * the engine accepts from it; {@code capacity} is how many workspaces may live on it; {@code directory} is where
 * their directories go (relative paths are relative to the user's home).
 */
public record SshHost(String id, String name, String address, int port, String user, String keyRef,
                      String hostKeyFingerprint, int capacity, Map<String, String> labels, String directory,
                      Instant createdAt, Instant updatedAt) {

    public SshHost {
        labels = Map.copyOf(labels);
    }

    String describe() {
        return name + " (" + user + "@" + address + ":" + port + ")";
    }
}
