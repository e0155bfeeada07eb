package dev.atelier.domain.workspace;

import java.time.Instant;

/**
 * What the idle read model knows of a workspace's use: heartbeats are not events, so policy decisions read them
 * here. Implemented by the idle projection.
 */
public interface ActivityReader {

    Activity activity(String workspaceId);

    /**
     * @param lastActivityAt  last sign of use (a connection, an agent's "working", an API call by the owner); null if none
     * @param openConnections connections reported by a heartbeat that is still fresh; 0 when the agent went silent
     */
    record Activity(Instant lastActivityAt, int openConnections) {
        public static final Activity NONE = new Activity(null, 0);
    }
}
