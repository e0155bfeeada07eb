package dev.atelier.lifecycle;

import dev.atelier.domain.identity.UserSuspendedEvent;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.workspace.StopWorkspaceCommand;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.projections.workspaces.WorkspaceQueries;
import dev.atelier.projections.workspaces.WorkspaceView;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.queryhandling.QueryGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.util.Optional;

/**
 * A suspended user's workspaces do not run: on the suspension each RUNNING one is stopped with reason {@code SYSTEM},
 * and one that was still starting is stopped as soon as it is up. To run a suspended user's workspace, activate the
 * user first. A tracking processor ({@value #PROCESSING_GROUP}): after a restart it goes on where it was.
 */
@Component
@ProcessingGroup(SuspendedUserWorkspaces.PROCESSING_GROUP)
public class SuspendedUserWorkspaces {

    public static final String PROCESSING_GROUP = "suspensions";
    private static final Logger log = LoggerFactory.getLogger(SuspendedUserWorkspaces.class);
    private static final int PAGE = 500;

    private final CommandGateway commands;
    private final QueryGateway queries;
    private final IdentityReadModel identities;

    public SuspendedUserWorkspaces(CommandGateway commands, QueryGateway queries, IdentityReadModel identities) {
        this.commands = commands;
        this.queries = queries;
        this.identities = identities;
    }

    @EventHandler
    void on(UserSuspendedEvent event) {
        String cursor = null;
        do {
            WorkspaceQueries.Page page = queries.query(new WorkspaceQueries.ListWorkspaces(event.userId(), null,
                            WorkspaceStatus.RUNNING.name(), null, null, PAGE, cursor),
                    ResponseTypes.instanceOf(WorkspaceQueries.Page.class)).join();
            page.workspaces().forEach(view -> stop(view.id()));
            cursor = page.nextCursor();
        } while (cursor != null);
    }

    /** A workspace of a suspended user that finished starting after the suspension. */
    @EventHandler
    void on(WorkspaceTransitionSucceededEvent event) {
        if (event.transition() != Transition.START) {
            return;
        }
        Optional<WorkspaceView> view = queries.query(new WorkspaceQueries.FindWorkspace(event.workspaceId()),
                ResponseTypes.optionalInstanceOf(WorkspaceView.class)).join();
        if (view.isPresent() && identities.user(view.get().owner()).filter(u -> u.suspended()).isPresent()) {
            stop(event.workspaceId());
        }
    }

    private void stop(String workspaceId) {
        try {
            commands.sendAndWait(new StopWorkspaceCommand(workspaceId, TransitionReason.SYSTEM, Actor.SYSTEM));
        } catch (DomainRuleViolation notRunningAnyMore) {
            log.debug("workspace {} of a suspended user was not stopped: {}", workspaceId, notRunningAnyMore.getMessage());
        }
    }
}
