package dev.atelier.cluster;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.springframework.stereotype.Component;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * This engine's node id: {@code atelier.node-id}, or the host name. It goes into the logging MDC (key {@code node},
 * printed by the default log pattern) of every thread that logs, so that the logs of several nodes can be told
 * apart once collected in one place.
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
    private final NodeMdc mdc;

    public Node(NodeSettings settings) {
        this.id = choose(settings.nodeId());
        this.mdc = new NodeMdc(id);
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logging) {
            logging.addTurboFilter(mdc);
        }
    }

    /** Threads keep the id they were given; new threads of a later engine in this JVM get that engine's. */
    @jakarta.annotation.PreDestroy
    void close() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logging) {
            logging.getTurboFilterList().remove(mdc);
        }
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

    /** Puts the node id into the MDC of a thread the first time that thread logs. */
    private static final class NodeMdc extends TurboFilter {

        private final String id;

        NodeMdc(String id) {
            this.id = id;
        }

        @Override
        public FilterReply decide(Marker marker, ch.qos.logback.classic.Logger logger, ch.qos.logback.classic.Level level,
                                  String format, Object[] params, Throwable t) {
            if (MDC.get(MDC_KEY) == null) {
                MDC.put(MDC_KEY, id);
            }
            return FilterReply.NEUTRAL;
        }
    }
}
