-- Indexes for the users grid: every sortable column paired with the id, which is the
-- tie-break that keeps paging stable. NULLs come last ascending and first descending, the
-- order a plain index gives on both backends.
CREATE INDEX users_email_sort ON users (email_key, id);
CREATE INDEX users_first_name_sort ON users (first_name, id);
CREATE INDEX users_last_name_sort ON users (last_name, id);
CREATE INDEX users_enabled_sort ON users (enabled, id);
CREATE INDEX users_status_sort ON users (auth_status, id);
CREATE INDEX users_last_login_sort ON users (last_login_at, id);
CREATE INDEX users_created_sort ON users (created_at, id);
CREATE INDEX users_updated_sort ON users (updated_at, id);
-- The built-in views that select few rows get partial indexes.
CREATE INDEX users_disabled ON users (username_key) WHERE enabled = FALSE;
CREATE INDEX users_cannot_login ON users (username_key) WHERE enabled = FALSE OR auth_status <> 'active';

-- Which sessions belong to which user, so that disabling, deleting or changing a user's
-- password can remove their sessions in the same transaction.
CREATE TABLE user_sessions (
    session_id  TEXT   PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- An administrator's own saved grid views: a name and the grid state as a query string.
CREATE TABLE grid_views (
    id          INTEGER PRIMARY KEY,
    owner_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT  NOT NULL,
    UNIQUE (owner_id, name)
);

-- OAuth applications belong to a user (their owner) and block that user's deletion.
CREATE TABLE oauth_applications (
    id               INTEGER PRIMARY KEY,
    owner_id         BIGINT  NOT NULL REFERENCES users (id),
    organization_id  BIGINT  NOT NULL REFERENCES organizations (id),
    name             TEXT    NOT NULL,
    client_id        TEXT    NOT NULL UNIQUE,
    secret_hash      TEXT    NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    grant_type       TEXT    NOT NULL DEFAULT 'client_credentials',
    last_used_at     BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX oauth_applications_owner ON oauth_applications (owner_id);
