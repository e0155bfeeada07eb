-- Users, teams and SSH keys (the identity read model, projections/identity). Filled by a subscribing processor in the
-- same transaction as the command, so a suspension is in force the moment the call that made it returns.
CREATE TABLE identity_user (
    id         VARCHAR(100) NOT NULL PRIMARY KEY,
    name       VARCHAR(200),
    email      VARCHAR(254),
    roles      VARCHAR(200) NOT NULL,
    source     VARCHAR(10)  NOT NULL,
    suspended  BOOLEAN      NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL,
    updated_at TIMESTAMPTZ  NOT NULL
);

-- One row per membership and source (OIDC: the last login's teams claim, OWNER: set by an owner).
CREATE TABLE identity_user_team (
    user_id VARCHAR(100) NOT NULL,
    team    VARCHAR(100) NOT NULL,
    source  VARCHAR(10)  NOT NULL,
    PRIMARY KEY (user_id, team, source)
);
CREATE INDEX identity_user_team_team ON identity_user_team (team);

CREATE TABLE identity_team (
    name        VARCHAR(100) NOT NULL PRIMARY KEY,
    description VARCHAR(500),
    source      VARCHAR(10)  NOT NULL,
    created_by  VARCHAR(200) NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL
);

-- A fingerprint belongs to one user only: the SSH gateway finds the user by the key.
CREATE TABLE identity_ssh_key (
    id          VARCHAR(36)  NOT NULL PRIMARY KEY,
    user_id     VARCHAR(100) NOT NULL,
    name        VARCHAR(100) NOT NULL,
    type        VARCHAR(60)  NOT NULL,
    bits        INTEGER      NOT NULL,
    fingerprint VARCHAR(100) NOT NULL UNIQUE,
    public_key  TEXT         NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL
);
CREATE INDEX identity_ssh_key_user ON identity_ssh_key (user_id);

-- Last login per user: written by the login itself (not an event, like token use), kept across a rebuild.
CREATE TABLE identity_login (
    user_id       VARCHAR(100) NOT NULL PRIMARY KEY,
    last_login_at TIMESTAMPTZ  NOT NULL
);
