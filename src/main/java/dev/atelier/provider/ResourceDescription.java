package dev.atelier.provider;

import java.util.Map;

/** What a provider sees of a workspace's resource right now. */
public record ResourceDescription(String resourceId, State state, Map<String, String> labels,
                                  Map<String, String> connection) {

    public enum State { ABSENT, PROVISIONING, RUNNING, STOPPED, FAILED, UNKNOWN }
}
