-- API tokens: only a SHA-256 of the secret is stored; the secret is shown once at creation.
CREATE TABLE api_token (
    id         UUID         NOT NULL PRIMARY KEY,
    name       VARCHAR(100) NOT NULL,
    subject    VARCHAR(100) NOT NULL,
    roles      VARCHAR(200) NOT NULL,
    token_hash CHAR(64)     NOT NULL UNIQUE,
    created_at TIMESTAMPTZ  NOT NULL,
    created_by VARCHAR(100) NOT NULL,
    revoked_at TIMESTAMPTZ
);
