-- Automatic stops announced ahead (idle warning) and dormancy, shown in the workspace detail and pushed by SSE.
ALTER TABLE workspace_view ADD COLUMN auto_stop_at TIMESTAMPTZ;
ALTER TABLE workspace_view ADD COLUMN auto_stop_reason VARCHAR(20);
ALTER TABLE workspace_view ADD COLUMN dormant BOOLEAN NOT NULL DEFAULT FALSE;
