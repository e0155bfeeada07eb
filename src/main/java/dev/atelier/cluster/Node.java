package dev.atelier.cluster;

import org.springframework.stereotype.Component;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * This engine's node id: {@code atelier.node-id}, or the host name ({@link NodeLogging} puts it into the logs).
 *
 * <p>The id is checked here because it ends up in SQL notices, token claims and log lines: letters, digits, dot,
 * dash and underscore, at most 64 characters.
 */
@Component("atelierNode")
public class Node {

    /** The MDC key that carries the node id. */
    public static final String MDC_KEY = "node";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private final String id;

    public Node(NodeSettings settings) {
        this.id = choose(settings.nodeId());
    }

    /** This node's id. */
    public String id() {
        return id;
    }

    static String choose(String configured) {
        String id = configured == null || configured.isBlank() ? hostName() : configured.strip();
        if (!ID.matcher(id).matches()) {
            throw new IllegalStateException("atelier.node-id (ATELIER_NODE_ID) must be 1 to 64 letters, digits, '.', "
                    + "'-' or '_', starting with a letter or digit");
        }
        return id;
    }

    private static String hostName() {
        try {
            String host = InetAddress.getLocalHost().getHostName();
            if (ID.matcher(host).matches()) {
                return host;
            }
        } catch (UnknownHostException e) {
            // fall through to the environment
        }
        String env = System.getenv("HOSTNAME");
        return env != null && ID.matcher(env).matches() ? env : "atelier";
    }
}
