-- Email is written here in the same transaction as the change that causes it, and a
-- background worker delivers it: nothing is lost if the mailer or the process is down.
-- A worker claims a row with a lease (claimed_until) instead of a lock held while sending,
-- so a worker that dies mid-send leaves the row claimable again once the lease runs out.
CREATE TABLE mail_outbox (
    id               INTEGER PRIMARY KEY,
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
    -- Set when delivery was given up; the row stays, with last_error, for inspection.
    failed_at        BIGINT,
    created_at       BIGINT  NOT NULL
);
-- Only rows still to deliver are indexed: the claim query reads nothing else.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- Only the SHA-256 of a reset token is stored: a copy of this table cannot reset anyone's
-- password.
CREATE TABLE password_reset_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
CREATE INDEX password_reset_tokens_user ON password_reset_tokens (user_id);

-- Fixed-window counters, in the database so that every process behind a load balancer
-- counts against the same limit.
CREATE TABLE rate_limits (
    key           TEXT    NOT NULL,
    window_start  BIGINT  NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
