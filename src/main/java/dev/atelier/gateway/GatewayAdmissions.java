package dev.atelier.gateway;

import dev.atelier.api.Access;
import dev.atelier.domain.shared.Actor;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.projections.workspaces.WorkspaceHostKeyProjection;
import dev.atelier.projections.workspaces.WorkspaceQueries;
import dev.atelier.projections.workspaces.WorkspaceView;
import dev.atelier.provider.WorkspaceShell;
import dev.atelier.security.ApiTokens;
import dev.atelier.security.AtelierPrincipal;
import dev.atelier.security.Role;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.digest.BuiltinDigests;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.queryhandling.QueryGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.PublicKey;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who may open an SSH session to which workspace, by the rules the API applies: a registered public key (the
 * identity projection) or an API token given as the password proves who the user is (a suspended user is refused
 * either way); the SSH user name names the workspace, {@code <name>} for one's own or {@code <owner>.<name>}; and the
 * workspace must be one the caller may see through the API ({@link Access#canSee}: its owner, an owner of the
 * installation, or a scoped token that names it). Every answer is an {@link Admission} or a refusal whose reason
 * goes to the audit trail, never to the client (which hears only "permission denied").
 */
class GatewayAdmissions {

    /** {@code <owner>.<name>} or {@code <name>}: workspace names have no dots, so the last dot splits. */
    private static final Pattern USER_NAME = Pattern.compile("(?:([\\x21-\\x7e]{1,200})\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)");

    private static final Logger log = LoggerFactory.getLogger(GatewayAdmissions.class);

    private final IdentityReadModel identities;
    private final ApiTokens tokens;
    private final QueryGateway queries;

    GatewayAdmissions(IdentityReadModel identities, ApiTokens tokens, QueryGateway queries) {
        this.identities = identities;
        this.tokens = tokens;
        this.queries = queries;
    }

    /** The outcome of one attempt; {@code subject} and {@code workspaceId} are known as far as the check got. */
    sealed interface Outcome permits Admitted, Refused {
    }

    record Admitted(Admission admission) implements Outcome {
    }

    record Refused(String reason, String subject, String workspaceId) implements Outcome {
    }

    /** The OpenSSH fingerprint ({@code SHA256:...}), as the identity projection stores it. */
    static String fingerprint(PublicKey key) {
        return KeyUtils.getFingerPrint(BuiltinDigests.sha256, key);
    }

    Outcome byKey(String userName, PublicKey key) {
        String fingerprint = fingerprint(key);
        Optional<String> owner = identities.sshKeyOwner(fingerprint);
        if (owner.isEmpty()) {
            return new Refused("public key " + fingerprint + " is not registered", null, null);
        }
        Optional<IdentityReadModel.UserRecord> user = identities.user(owner.get());
        if (user.isEmpty()) {
            return new Refused("the key's user no longer exists", owner.get(), null);
        }
        if (user.get().suspended()) {
            return new Refused("user " + owner.get() + " is suspended", owner.get(), null);
        }
        Set<Role> roles = new HashSet<>();
        for (String role : user.get().roles()) {
            try {
                roles.add(Role.parse(role));
            } catch (IllegalArgumentException e) {
                // a role this engine does not know grants nothing
            }
        }
        return workspace(userName, new AtelierPrincipal(owner.get(), Actor.ActorType.USER, roles, "ssh-key:" + fingerprint),
                "publickey " + fingerprint);
    }

    Outcome byToken(String userName, String token) {
        Optional<ApiTokens.Check> check = token == null || token.isBlank() ? Optional.empty() : tokens.authenticate(token);
        if (check.isEmpty()) {
            return new Refused("the password is not a valid API token", null, null);
        }
        if (check.get() instanceof ApiTokens.Refused refused) {
            return new Refused(refused.reason(), null, null);
        }
        AtelierPrincipal principal = ((ApiTokens.Accepted) check.get()).principal();
        return workspace(userName, principal, "token:" + principal.credentialId());
    }

    private Outcome workspace(String userName, AtelierPrincipal principal, String credential) {
        Matcher m = userName == null ? null : USER_NAME.matcher(userName);
        if (m == null || !m.matches()) {
            return new Refused("the SSH user name is not a workspace name or <owner>.<workspace-name>",
                    principal.subject(), null);
        }
        String owner = m.group(1) != null ? m.group(1) : principal.subject();
        String name = m.group(2);
        List<WorkspaceView> found = find(owner, name);
        if (found.isEmpty()) {
            return new Refused("no workspace '" + name + "' of " + owner, principal.subject(), null);
        }
        if (found.size() > 1) {
            return new Refused("several workspaces of " + owner + " are named '" + name + "'", principal.subject(), null);
        }
        WorkspaceView view = found.get(0);
        if (!Access.canSee(principal, view)) {
            return new Refused("workspace " + view.id() + " belongs to " + view.owner() + ", not to " + principal.subject(),
                    principal.subject(), view.id());
        }
        return new Admitted(new Admission(principal, credential, view.id(), view.name(), view.owner(), view.provider()));
    }

    private List<WorkspaceView> find(String owner, String name) {
        try {
            WorkspaceQueries.Page page = queries.query(new WorkspaceQueries.ListWorkspaces(owner, null, null, null, null,
                    1000, null), WorkspaceQueries.Page.class).get(10, TimeUnit.SECONDS);
            return page.workspaces().stream().filter(v -> v.name().equals(name) && !"DELETED".equals(v.status()))
                    .toList();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("workspace look-up failed", e);
        }
    }

    /**
     * The workspace as a provider needs it when a channel opens: its connection info now and the SSH host keys its
     * agent reported for the current build (keys of an older build are not passed on: its VM may have been replaced).
     * A failed look-up gives the id alone, and a provider that needs more says so to the client.
     */
    WorkspaceShell.Target target(Admission admission) {
        String id = admission.workspaceId();
        try {
            Optional<WorkspaceView> view = view(id);
            if (view.isEmpty()) {
                return WorkspaceShell.Target.of(id);
            }
            List<String> hostKeys = queries.query(new WorkspaceHostKeyProjection.FindHostKeys(id),
                            ResponseTypes.optionalInstanceOf(WorkspaceHostKeyProjection.HostKeys.class))
                    .get(10, TimeUnit.SECONDS)
                    .filter(keys -> keys.buildNumber() == view.get().buildNumber())
                    .map(WorkspaceHostKeyProjection.HostKeys::fingerprints)
                    .orElse(List.of());
            return new WorkspaceShell.Target(id, view.get().connection(), hostKeys);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return WorkspaceShell.Target.of(id);
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            log.warn("workspace {}: connection info and host keys could not be read for the gateway: {}", id,
                    e.toString());
            return WorkspaceShell.Target.of(id);
        }
    }

    /** The workspace's current view, for the state checks. */
    Optional<WorkspaceView> view(String workspaceId) {
        try {
            return queries.query(new WorkspaceQueries.FindWorkspace(workspaceId),
                    org.axonframework.messaging.responsetypes.ResponseTypes.optionalInstanceOf(WorkspaceView.class))
                    .get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("workspace look-up failed", e);
        }
    }
}
