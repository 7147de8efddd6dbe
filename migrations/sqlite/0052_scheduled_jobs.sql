-- Periodic jobs (the cleanup of expired sessions, nonces, throttling windows and export
-- files): one row each, claimed with a lease like any queue, so one instance at a time
-- runs each, however many share the database.
CREATE TABLE scheduled_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    next_run_at    BIGINT  NOT NULL,
    claimed_until  BIGINT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT
);
INSERT INTO scheduled_jobs (name, next_run_at) VALUES ('cleanup', 0);
