-- Ids are never handed out twice. A SQLite `INTEGER PRIMARY KEY` without AUTOINCREMENT
-- takes the largest id + 1, so after the newest user was deleted the next one got their
-- id, and with it their history, links and exports. AUTOINCREMENT keeps the largest id
-- ever used (in sqlite_sequence); it cannot be added to a table, so each table whose ids
-- are shown or referenced is rebuilt: copy, drop, rename, indexes and triggers again.
-- `Db::migrate` runs SQLite migrations with foreign keys off (a DROP TABLE would otherwise
-- delete the referencing rows through ON DELETE CASCADE) and checks every key afterwards.

CREATE TABLE organizations_rebuilt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    is_global   BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO organizations_rebuilt (id, name, name_key, enabled, created_at, updated_at, is_global)
    SELECT id, name, name_key, enabled, created_at, updated_at, is_global FROM organizations;
DROP TABLE organizations;
ALTER TABLE organizations_rebuilt RENAME TO organizations;

CREATE TABLE users_rebuilt (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
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
    session_epoch       BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    last_organization_id BIGINT REFERENCES organizations (id) ON DELETE SET NULL
);
INSERT INTO users_rebuilt (id, username, username_key, email, email_key, name_prefix, first_name, middle_name, last_name, name_suffix, birthday, phone, enabled, auth_status, failed_login_count, last_login_at, login_count, password_hash, session_epoch, created_at, updated_at, last_organization_id)
    SELECT id, username, username_key, email, email_key, name_prefix, first_name, middle_name, last_name, name_suffix, birthday, phone, enabled, auth_status, failed_login_count, last_login_at, login_count, password_hash, session_epoch, created_at, updated_at, last_organization_id FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
CREATE INDEX users_first_name_sort ON users (first_name, id);
CREATE INDEX users_last_name_sort ON users (last_name, id);
CREATE INDEX users_enabled_sort ON users (enabled, id);
CREATE INDEX users_status_sort ON users (auth_status, id);
CREATE INDEX users_last_login_sort ON users (last_login_at, id);
CREATE INDEX users_created_sort ON users (created_at, id);
CREATE INDEX users_updated_sort ON users (updated_at, id);
CREATE INDEX users_disabled ON users (username_key) WHERE enabled = FALSE;
CREATE INDEX users_cannot_login ON users (username_key) WHERE enabled = FALSE OR auth_status <> 'active';

-- The search table's triggers went with the old table (its index itself still holds
-- every row under the same ids).
CREATE TRIGGER user_keys_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_keys_search (rowid, username_key, email_key)
    VALUES (new.id, new.username_key, new.email_key);
END;

CREATE TRIGGER user_keys_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO user_keys_search (user_keys_search, rowid, username_key, email_key)
    VALUES ('delete', old.id, old.username_key, old.email_key);
END;

CREATE TRIGGER user_keys_search_update AFTER UPDATE OF username_key, email_key ON users BEGIN
    INSERT INTO user_keys_search (user_keys_search, rowid, username_key, email_key)
    VALUES ('delete', old.id, old.username_key, old.email_key);
    INSERT INTO user_keys_search (rowid, username_key, email_key)
    VALUES (new.id, new.username_key, new.email_key);
END;

CREATE TABLE audit_log_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO audit_log_rebuilt (id, actor_id, actor_name, action, target_type, target_id, target_label, details, ip, created_at)
    SELECT id, actor_id, actor_name, action, target_type, target_id, target_label, details, ip, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_rebuilt RENAME TO audit_log;
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

CREATE TABLE grid_views_rebuilt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT  NOT NULL,
    UNIQUE (owner_id, name)
);
INSERT INTO grid_views_rebuilt (id, owner_id, name, query, is_default, created_at)
    SELECT id, owner_id, name, query, is_default, created_at FROM grid_views;
DROP TABLE grid_views;
ALTER TABLE grid_views_rebuilt RENAME TO grid_views;

CREATE TABLE oauth_applications_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO oauth_applications_rebuilt (id, owner_id, organization_id, name, client_id, secret_hash, active, grant_type, last_used_at, created_at, updated_at)
    SELECT id, owner_id, organization_id, name, client_id, secret_hash, active, grant_type, last_used_at, created_at, updated_at FROM oauth_applications;
DROP TABLE oauth_applications;
ALTER TABLE oauth_applications_rebuilt RENAME TO oauth_applications;
CREATE INDEX oauth_applications_owner ON oauth_applications (owner_id);

CREATE TABLE export_jobs_rebuilt (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    requested_by   BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    query          TEXT,
    fields         TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    claimed_until  BIGINT,
    rows_written   BIGINT  NOT NULL DEFAULT 0,
    file_name      TEXT,
    file_size      BIGINT,
    error          TEXT,
    created_at     BIGINT  NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    expires_at     BIGINT
);
INSERT INTO export_jobs_rebuilt (id, requested_by, query, fields, status, attempts, claimed_until, rows_written, file_name, file_size, error, created_at, started_at, finished_at, expires_at)
    SELECT id, requested_by, query, fields, status, attempts, claimed_until, rows_written, file_name, file_size, error, created_at, started_at, finished_at, expires_at FROM export_jobs;
DROP TABLE export_jobs;
ALTER TABLE export_jobs_rebuilt RENAME TO export_jobs;
CREATE INDEX export_jobs_claim ON export_jobs (status, id);
CREATE INDEX export_jobs_requester ON export_jobs (requested_by, id);

CREATE TABLE mail_outbox_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient        TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    text_body        TEXT    NOT NULL,
    html_body        TEXT,
    template         TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    last_error       TEXT,
    claimed_until    BIGINT,
    sent_at          BIGINT,
    failed_at        BIGINT,
    created_at       BIGINT  NOT NULL
);
INSERT INTO mail_outbox_rebuilt (id, recipient, subject, text_body, html_body, template, attempts, next_attempt_at, last_error, claimed_until, sent_at, failed_at, created_at)
    SELECT id, recipient, subject, text_body, html_body, template, attempts, next_attempt_at, last_error, claimed_until, sent_at, failed_at, created_at FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_rebuilt RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE password_reset_tokens_rebuilt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
INSERT INTO password_reset_tokens_rebuilt (id, user_id, token_hash, created_at, expires_at, used_at)
    SELECT id, user_id, token_hash, created_at, expires_at, used_at FROM password_reset_tokens;
DROP TABLE password_reset_tokens;
ALTER TABLE password_reset_tokens_rebuilt RENAME TO password_reset_tokens;
CREATE INDEX password_reset_tokens_user ON password_reset_tokens (user_id);

CREATE TABLE api_keys_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id  BIGINT NOT NULL REFERENCES organizations (id),
    key_ciphertext   BLOB   NOT NULL,
    key_nonce        BLOB   NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (user_id, organization_id)
);
INSERT INTO api_keys_rebuilt (id, user_id, organization_id, key_ciphertext, key_nonce, created_at)
    SELECT id, user_id, organization_id, key_ciphertext, key_nonce, created_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_rebuilt RENAME TO api_keys;
