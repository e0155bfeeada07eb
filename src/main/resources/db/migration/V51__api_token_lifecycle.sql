-- Tokens with a lifecycle (docs/security.md): an expiry, when last used (written in batches, not per request), a kind
-- (api, scoped for agents, bootstrap for the admin token of ATELIER_ADMIN_TOKEN) and, for scoped tokens, what they may
-- touch. Tokens issued before this have no expiry.
ALTER TABLE api_token ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT 'api';
ALTER TABLE api_token ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_token ADD COLUMN last_used_at TIMESTAMPTZ;
ALTER TABLE api_token ADD COLUMN scope_workspaces VARCHAR(2000);
ALTER TABLE api_token ADD COLUMN scope_agent_workspaces BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE api_token ADD COLUMN rotated_at TIMESTAMPTZ;
CREATE INDEX api_token_subject ON api_token (subject);
