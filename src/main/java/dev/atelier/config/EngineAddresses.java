package dev.atelier.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the engine's database can be reached, for the providers whose workspaces have a network of their own
 * (containers, pods): they keep workspaces away from these addresses. The embedded database listens on loopback
 * only, which no container or pod reaches, so it contributes nothing; an external one contributes the addresses its
 * host name resolves to now, at start-up (docs/architecture.md, "Threat model").
 */
public final class EngineAddresses {

    private static final Logger log = LoggerFactory.getLogger(EngineAddresses.class);
    private static final Pattern JDBC = Pattern.compile("jdbc:postgresql://([^/?]*)(?:[/?].*)?");

    private EngineAddresses() {
    }

    /** The non-loopback addresses of the database hosts in {@code atelier.db.url}; empty for the embedded one. */
    public static List<InetAddress> database(AtelierProperties properties) {
        if (!properties.db().external()) {
            return List.of();
        }
        return database(properties.db().url());
    }

    static List<InetAddress> database(String jdbcUrl) {
        Matcher m = JDBC.matcher(jdbcUrl);
        if (!m.matches()) {
            return List.of();
        }
        Set<InetAddress> found = new LinkedHashSet<>();
        for (String hostPort : m.group(1).split(",")) {
            String host = hostPort.startsWith("[") ? hostPort.substring(1, Math.max(1, hostPort.indexOf(']')))
                    : hostPort.contains(":") ? hostPort.substring(0, hostPort.indexOf(':')) : hostPort;
            if (host.isBlank()) {
                continue;
            }
            try {
                for (InetAddress address : InetAddress.getAllByName(host)) {
                    if (!address.isLoopbackAddress()) {
                        found.add(address);
                    }
                }
            } catch (UnknownHostException e) {
                log.warn("the database host {} does not resolve now; workspaces are not kept away from it by address",
                        host);
            }
        }
        return new ArrayList<>(found);
    }
}
