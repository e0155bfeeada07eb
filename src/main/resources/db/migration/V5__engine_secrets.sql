-- Secrets the engine generates for itself (for example the key that signs workspace agent tokens), shared by
-- every node that uses this database.
CREATE TABLE engine_secret (
    name       VARCHAR(100) NOT NULL PRIMARY KEY,
    value      BYTEA        NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);
