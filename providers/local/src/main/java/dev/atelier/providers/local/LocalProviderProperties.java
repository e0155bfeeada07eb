package dev.atelier.providers.local;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code local} provider ({@code atelier.providers.local.*}).
 *
 * @param rootDir         where workspace directories live; default {@code <data dir>/workspaces}
 * @param stateDir        where the engine keeps its bookkeeping of them, outside every workspace's reach; default
 *                        {@code <data dir>/local-state}
 * @param sandbox         {@code auto} (bubblewrap when it works here, else a plain process group, which the
 *                        workspace view, connection info, health and start-up log then say), {@code bwrap}
 *                        (required: the engine does not start without it) or {@code none}
 * @param workspaceUid    the uid workspace code runs as when the engine runs as root (never 0); ignored otherwise
 *                        (workspace code then runs as the engine's own user, in a user namespace)
 * @param workspaceGid    the gid that goes with it
 * @param readinessDelay  how long the start-up process must stay alive before the workspace counts as RUNNING
 * @param stopGracePeriod how long stop waits after SIGTERM before the whole sandbox is killed
 */
@ConfigurationProperties("atelier.providers.local")
public record LocalProviderProperties(
        @DefaultValue("true") boolean enabled,
        Path rootDir,
        Path stateDir,
        @DefaultValue("auto") Sandbox sandbox,
        @DefaultValue("61000") int workspaceUid,
        @DefaultValue("61000") int workspaceGid,
        @DefaultValue("PT0.5S") Duration readinessDelay,
        @DefaultValue("PT5S") Duration stopGracePeriod) {

    public enum Sandbox { AUTO, BWRAP, NONE }
}
