-- The SSH host keys a workspace's agent reported for a build (WorkspaceHostKeysReportedEvent): what the SSH
-- gateway's hop into a VM workspace checks the VM's sshd against. One row per workspace: a newer build's report
-- replaces the older one, and readers compare the build with the workspace's current one.
CREATE TABLE workspace_host_keys (
    workspace_id VARCHAR(64) PRIMARY KEY,
    build_number BIGINT      NOT NULL,
    fingerprints TEXT        NOT NULL,
    reported_at  TIMESTAMPTZ NOT NULL
);
