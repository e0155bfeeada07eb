package dev.atelier.cluster;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import jakarta.annotation.PreDestroy;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.springframework.stereotype.Component;

/**
 * Puts the node id into the logging MDC (key {@value Node#MDC_KEY}, printed after the level by the default log
 * pattern) of every thread the first time it logs, so that the logs of several nodes can be told apart once
 * collected in one place. A Logback turbo filter, because threads are made by many libraries that know nothing of
 * the MDC. Two engines in one JVM share some threads: such a thread keeps the id it got first.
 */
@Component
public class NodeLogging extends TurboFilter {

    private final String id;

    public NodeLogging(Node node) {
        this.id = node.id();
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logging) {
            logging.addTurboFilter(this);
        }
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (MDC.get(Node.MDC_KEY) == null) {
            MDC.put(Node.MDC_KEY, id);
        }
        return FilterReply.NEUTRAL;
    }

    @PreDestroy
    void close() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logging) {
            logging.getTurboFilterList().remove(this);
        }
    }
}
