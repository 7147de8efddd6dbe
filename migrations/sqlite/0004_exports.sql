-- Background CSV exports of users. A job is a row: claimed with a lease by one worker,
-- re-claimable when its process died (the file is rewritten from the start, so no row is
-- ever written twice).
CREATE TABLE export_jobs (
    id             INTEGER PRIMARY KEY,
    requested_by   BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The grid state for "Export this view"; NULL exports every user.
    query          TEXT,
    -- The columns, fixed when the job was requested.
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
CREATE INDEX export_jobs_claim ON export_jobs (status, id);
CREATE INDEX export_jobs_requester ON export_jobs (requested_by, id);

-- Settings an administrator changes at run time (over config.yml's defaults).
CREATE TABLE app_settings (
    name        TEXT   PRIMARY KEY,
    value       TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);
