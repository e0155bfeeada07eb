CREATE TABLE template_view (
    id             VARCHAR(64)  NOT NULL PRIMARY KEY,
    name           VARCHAR(100) NOT NULL,
    description    TEXT,
    active_version INT          NOT NULL,
    latest_version INT          NOT NULL,
    archived       BOOLEAN      NOT NULL DEFAULT FALSE,
    created_by     VARCHAR(100),
    created_at     TIMESTAMPTZ  NOT NULL,
    updated_at     TIMESTAMPTZ  NOT NULL
);

CREATE TABLE template_version_view (
    template_id  VARCHAR(64) NOT NULL REFERENCES template_view (id),
    version      INT         NOT NULL,
    provider     VARCHAR(40) NOT NULL,
    definition   JSONB       NOT NULL,
    published_by VARCHAR(100),
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (template_id, version)
);
