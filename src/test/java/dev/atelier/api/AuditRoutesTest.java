package dev.atelier.api;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;

import static org.assertj.core.api.Assertions.assertThat;

/** How a refused request is named in the audit trail. */
class AuditRoutesTest {

    @Test
    void requestsAreNamedLikeTheEventsTheyWouldHaveProduced() {
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/workspaces"))
                .isEqualTo(new AuditRoutes.Target("create", "workspace", null));
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/workspaces/w1/stop"))
                .isEqualTo(new AuditRoutes.Target("stop", "workspace", "w1"));
        assertThat(AuditRoutes.of(HttpMethod.DELETE, "/api/v1/workspaces/w1"))
                .isEqualTo(new AuditRoutes.Target("delete", "workspace", "w1"));
        assertThat(AuditRoutes.of(HttpMethod.GET, "/api/v1/workspaces/w1/history"))
                .isEqualTo(new AuditRoutes.Target("read", "workspace", "w1"));
        assertThat(AuditRoutes.of(HttpMethod.PUT, "/api/v1/workspaces/w1/host-keys"))
                .isEqualTo(new AuditRoutes.Target("report-host-keys", "workspace", "w1"));
        assertThat(AuditRoutes.of(HttpMethod.GET, "/api/v1/workspaces/watch"))
                .isEqualTo(new AuditRoutes.Target("watch", "workspace", null));
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/templates/t1/versions"))
                .isEqualTo(new AuditRoutes.Target("publish", "template", "t1"));
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/templates/t1/active-version"))
                .isEqualTo(new AuditRoutes.Target("activate", "template", "t1"));
        assertThat(AuditRoutes.of(HttpMethod.DELETE, "/api/v1/tokens/k1"))
                .isEqualTo(new AuditRoutes.Target("revoke", "token", "k1"));
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/tokens/k1/rotate"))
                .isEqualTo(new AuditRoutes.Target("rotate", "token", "k1"));
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/users/u1/suspend"))
                .isEqualTo(new AuditRoutes.Target("suspend", "user", "u1"));
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/users/me/keys"))
                .isEqualTo(new AuditRoutes.Target("add-key", "ssh-key", "me"));
        assertThat(AuditRoutes.of(HttpMethod.DELETE, "/api/v1/users/me/keys/k9"))
                .isEqualTo(new AuditRoutes.Target("remove-key", "ssh-key", "k9"));
        assertThat(AuditRoutes.of(HttpMethod.PUT, "/api/v1/teams/core/members"))
                .isEqualTo(new AuditRoutes.Target("set-members", "team", "core"));
        assertThat(AuditRoutes.of(HttpMethod.GET, "/api/v1/audit/export"))
                .isEqualTo(new AuditRoutes.Target("export", "audit", null));
        assertThat(AuditRoutes.of(HttpMethod.GET, "/api/v1/audit"))
                .isEqualTo(new AuditRoutes.Target("read", "audit", null));
        assertThat(AuditRoutes.of(HttpMethod.GET, "/api/v1/orphans"))
                .isEqualTo(new AuditRoutes.Target("list", "orphan", null));
        assertThat(AuditRoutes.of(HttpMethod.DELETE, "/api/v1/orphans/orph-1"))
                .isEqualTo(new AuditRoutes.Target("delete", "orphan", "orph-1"));
        assertThat(AuditRoutes.of(HttpMethod.POST, "/api/v1/reconcile"))
                .isEqualTo(new AuditRoutes.Target("reconcile", "reconciliation", null));
        assertThat(AuditRoutes.of(HttpMethod.GET, "/api/v2/unknown/x"))
                .isEqualTo(new AuditRoutes.Target("get", "unknown", "x"));
        assertThat(AuditRoutes.of(HttpMethod.DELETE, "/api/v1/workspaces/" + "x".repeat(500)).resourceId()).hasSize(200);
    }
}
