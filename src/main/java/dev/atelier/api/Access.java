package dev.atelier.api;

import dev.atelier.projections.workspaces.WorkspaceView;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Role checks shared by the controllers. */
public final class Access {

    private Access() {
    }

    static void requireAny(AtelierPrincipal caller, Role... roles) {
        if (!caller.hasAny(roles)) {
            throw ApiProblem.forbidden("this needs one of the roles " + Arrays.stream(roles).map(Role::id)
                    .collect(Collectors.joining(", ")) + "; '" + caller.subject() + "' has "
                    + caller.roles().stream().map(Role::id).sorted().collect(Collectors.joining(", ")));
        }
    }

    /** Owners see every workspace; everybody else only their own. */
    static boolean canSeeWorkspaceOf(AtelierPrincipal caller, String workspaceOwner) {
        return caller.has(Role.OWNER) || caller.subject().equals(workspaceOwner);
    }

    /** As {@link #canSeeWorkspaceOf}; a scoped token sees only what its scope names. */
    public static boolean canSee(AtelierPrincipal caller, WorkspaceView view) {
        if (caller.scoped()) {
            return caller.scope().allows(view.id(), view.owner(), view.kind(), caller.subject());
        }
        return canSeeWorkspaceOf(caller, view.owner());
    }
}
