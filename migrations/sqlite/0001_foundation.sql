-- Times are Unix seconds (UTC) in BIGINT columns on both backends: they sort and compare
-- the same everywhere, unlike SQLite's TEXT timestamps.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE roles (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE,
    label  TEXT NOT NULL
);

INSERT INTO roles (id, name, label) VALUES (1, 'ROLE_ADMINISTRATOR', 'Administrator'), (2, 'ROLE_USER', 'User');

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT    NOT NULL,
    username_key        TEXT    NOT NULL UNIQUE,
    email               TEXT    NOT NULL,
    email_key           TEXT    NOT NULL UNIQUE,
    name_prefix         TEXT,
    first_name          TEXT,
    middle_name         TEXT,
    last_name           TEXT,
    name_suffix         TEXT,
    birthday            TEXT,
    phone               TEXT,
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    auth_status         TEXT    NOT NULL DEFAULT 'active'
                        CHECK (auth_status IN ('active', 'locked', 'password_reset')),
    failed_login_count  INTEGER NOT NULL DEFAULT 0,
    last_login_at       BIGINT,
    login_count         BIGINT  NOT NULL DEFAULT 0,
    password_hash       TEXT    NOT NULL,
    -- Copied into the session at sign-in; bumping it ends every live session of the user.
    session_epoch       BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

CREATE TABLE user_organizations (
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id  BIGINT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX user_organizations_org ON user_organizations (organization_id, user_id);

CREATE TABLE user_roles (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id  BIGINT NOT NULL REFERENCES roles (id),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id, user_id);

-- No foreign keys: the history outlives the users it mentions.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    actor_id      BIGINT,
    actor_name    TEXT,
    action        TEXT   NOT NULL,
    target_type   TEXT   NOT NULL,
    target_id     BIGINT,
    target_label  TEXT,
    details       TEXT,
    ip            TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

INSERT INTO organizations (name, name_key, enabled, created_at, updated_at)
VALUES ('Default', 'default', TRUE, unixepoch(), unixepoch());
