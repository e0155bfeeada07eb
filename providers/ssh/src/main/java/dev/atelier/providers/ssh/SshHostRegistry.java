package dev.atelier.providers.ssh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.provider.ProviderException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.transaction.support.TransactionTemplate;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The host pool in PostgreSQL ({@code ssh_host}) and the placement of workspaces on hosts
 * ({@code ssh_workspace_placement}). Placement locks the host rows, so that two workspaces created at the same time
 * never take the last free slot of a host twice.
 */
public class SshHostRegistry {

    private static final TypeReference<Map<String, String>> LABELS = new TypeReference<>() {
    };

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final ObjectMapper json = new ObjectMapper();
    private final RowMapper<SshHost> mapper = (rs, i) -> new SshHost(rs.getString("id"), rs.getString("name"),
            rs.getString("address"), rs.getInt("port"), rs.getString("username"), rs.getString("key_ref"),
            rs.getString("host_key_fingerprint"), rs.getInt("capacity"), readLabels(rs.getString("labels")),
            rs.getString("directory"), rs.getTimestamp("created_at").toInstant(),
            rs.getTimestamp("updated_at").toInstant());

    public SshHostRegistry(JdbcTemplate jdbc, TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.tx = tx;
    }

    /** A host name that is taken already. */
    public static class NameTakenException extends RuntimeException {
        NameTakenException(String name) {
            super("a host named '" + name + "' is registered already; choose another name or update that host");
        }
    }

    /** Workspaces still live on the host. */
    public static class HostInUseException extends RuntimeException {
        HostInUseException(String name, List<String> workspaces) {
            super("host '" + name + "' still holds " + workspaces.size() + " workspace(s) (" + String.join(", ",
                    workspaces.subList(0, Math.min(10, workspaces.size()))) + (workspaces.size() > 10 ? ", ..." : "")
                    + "); delete them first, or delete the host with force=true to forget them (their files stay "
                    + "on the host)");
        }
    }

    public SshHost create(HostDefinition d) {
        String id = UUID.randomUUID().toString();
        Timestamp now = Timestamp.from(Instant.now().truncatedTo(ChronoUnit.MICROS));
        try {
            jdbc.update("INSERT INTO ssh_host (id, name, address, port, username, key_ref, host_key_fingerprint, "
                            + "capacity, labels, directory, created_at, updated_at) "
                            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)",
                    id, d.name(), d.address(), d.port(), d.user(), d.keyRef(), d.hostKeyFingerprint(), d.capacity(),
                    writeLabels(d.labels()), d.directory(), now, now);
        } catch (DuplicateKeyException e) {
            throw new NameTakenException(d.name());
        }
        return find(id).orElseThrow();
    }

    public Optional<SshHost> update(String id, HostDefinition d) {
        try {
            int updated = jdbc.update("UPDATE ssh_host SET name = ?, address = ?, port = ?, username = ?, key_ref = ?, "
                            + "host_key_fingerprint = ?, capacity = ?, labels = ?::jsonb, directory = ?, updated_at = ? "
                            + "WHERE id = ?",
                    d.name(), d.address(), d.port(), d.user(), d.keyRef(), d.hostKeyFingerprint(), d.capacity(),
                    writeLabels(d.labels()), d.directory(), Timestamp.from(Instant.now()), id);
            return updated == 0 ? Optional.empty() : find(id);
        } catch (DuplicateKeyException e) {
            throw new NameTakenException(d.name());
        }
    }

    /** @return false when there is no such host */
    public boolean delete(String id, boolean force) {
        Boolean deleted = tx.execute(status -> {
            Optional<SshHost> host = jdbc.query("SELECT * FROM ssh_host WHERE id = ? FOR UPDATE", mapper, id).stream()
                    .findFirst();
            if (host.isEmpty()) {
                return false;
            }
            List<String> workspaces = jdbc.queryForList("SELECT workspace_id FROM ssh_workspace_placement "
                    + "WHERE host_id = ? ORDER BY placed_at", String.class, id);
            if (!workspaces.isEmpty() && !force) {
                throw new HostInUseException(host.get().name(), workspaces);
            }
            jdbc.update("DELETE FROM ssh_workspace_placement WHERE host_id = ?", id);
            jdbc.update("DELETE FROM ssh_host WHERE id = ?", id);
            return true;
        });
        return Boolean.TRUE.equals(deleted);
    }

    public Optional<SshHost> find(String id) {
        return jdbc.query("SELECT * FROM ssh_host WHERE id = ?", mapper, id).stream().findFirst();
    }

    public List<SshHost> list() {
        return jdbc.query("SELECT * FROM ssh_host ORDER BY name", mapper);
    }

    /** Workspaces per host id. */
    public Map<String, Integer> usage() {
        Map<String, Integer> used = new HashMap<>();
        jdbc.query("SELECT host_id, count(*) AS n FROM ssh_workspace_placement GROUP BY host_id",
                rs -> {
                    used.put(rs.getString("host_id"), rs.getInt("n"));
                });
        return used;
    }

    public Optional<SshHost> placement(String workspaceId) {
        return jdbc.query("SELECT h.* FROM ssh_host h JOIN ssh_workspace_placement p ON p.host_id = h.id "
                + "WHERE p.workspace_id = ?", mapper, workspaceId).stream().findFirst();
    }

    /**
     * The host of the workspace: where it already is, else the matching host with the most free slots.
     *
     * @throws ProviderException (permanent) when no host matches the selector or all that match are full
     */
    public SshHost place(String workspaceId, Map<String, String> selector) {
        return tx.execute(status -> {
            Optional<SshHost> existing = placement(workspaceId);
            if (existing.isPresent()) {
                return existing.get();
            }
            List<SshHost> hosts = jdbc.query("SELECT * FROM ssh_host ORDER BY name FOR UPDATE", mapper);
            List<SshHost> matching = hosts.stream()
                    .filter(h -> h.labels().entrySet().containsAll(selector.entrySet())).toList();
            String wanted = selector.isEmpty() ? "any host" : "hosts with labels " + new TreeMap<>(selector);
            if (matching.isEmpty()) {
                throw ProviderException.permanent("no registered SSH host matches: the template asks for " + wanted
                        + " and none of the " + hosts.size() + " registered host(s) has them; register one "
                        + "(POST /api/v1/hosts) or change the template's hostSelector");
            }
            Map<String, Integer> used = usage();
            Optional<SshHost> best = matching.stream()
                    .filter(h -> h.capacity() - used.getOrDefault(h.id(), 0) > 0)
                    .max(Comparator.<SshHost>comparingInt(h -> h.capacity() - used.getOrDefault(h.id(), 0))
                            .thenComparing(SshHost::name, Comparator.reverseOrder()));
            if (best.isEmpty()) {
                throw ProviderException.permanent("no SSH host has free capacity: " + wanted + " are full ("
                        + matching.stream().map(h -> h.name() + " " + used.getOrDefault(h.id(), 0) + "/" + h.capacity())
                        .collect(Collectors.joining(", ")) + " workspaces); delete workspaces there, raise a "
                        + "host's capacity (PUT /api/v1/hosts/{id}) or register another host");
            }
            jdbc.update("INSERT INTO ssh_workspace_placement (workspace_id, host_id, placed_at) VALUES (?, ?, ?)",
                    workspaceId, best.get().id(), Timestamp.from(Instant.now()));
            return best.get();
        });
    }

    /** The workspace's directory exists on its host now: from here on, delete has to remove it there. */
    public void markProvisioned(String workspaceId) {
        jdbc.update("UPDATE ssh_workspace_placement SET provisioned = TRUE WHERE workspace_id = ? AND NOT provisioned",
                workspaceId);
    }

    public boolean provisioned(String workspaceId) {
        return jdbc.queryForList("SELECT provisioned FROM ssh_workspace_placement WHERE workspace_id = ?",
                Boolean.class, workspaceId).stream().anyMatch(Boolean.TRUE::equals);
    }

    public void release(String workspaceId) {
        jdbc.update("DELETE FROM ssh_workspace_placement WHERE workspace_id = ?", workspaceId);
    }

    private Map<String, String> readLabels(String text) {
        try {
            return text == null ? Map.of() : json.readValue(text, LABELS);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable host labels: " + e.getOriginalMessage(), e);
        }
    }

    private String writeLabels(Map<String, String> labels) {
        try {
            return json.writeValueAsString(new TreeMap<>(labels));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
