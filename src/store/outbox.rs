//! `mail_outbox`: email written with the change that causes it, delivered later by
//! `jobs::mail` (claimed through `store::jobs`). Every step a runner takes is one
//! statement, so several processes can share the queue without holding a lock while they
//! talk to the mail server.

use sqlx::QueryBuilder;

use super::jobs::Queue;
use super::{Db, StoreResult, Tx, on_db, on_tx};

pub struct NewMail<'a> {
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: Option<&'a str>,
    pub template: &'a str,
    pub now: i64,
}

/// A row claimed for delivery: everything needed to send it, already rendered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub template: String,
    /// Including the attempt this claim starts.
    pub attempts: i32,
    pub created_at: i64,
}

/// A row as an operator (or a test) inspects it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub template: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub claimed_until: Option<i64>,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub created_at: i64,
}

/// Writes an email inside the caller's transaction: it exists if and only if the change
/// that caused it was committed. Due at once.
pub async fn insert(tx: &mut Tx, m: &NewMail<'_>) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO mail_outbox (recipient, subject, text_body, html_body, \
        template, attempts, next_attempt_at, created_at) \
        VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING id";
    tx.queued_work();
    on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(m.recipient)
        .bind(m.subject)
        .bind(m.text_body)
        .bind(m.html_body)
        .bind(m.template)
        .bind(m.now)
        .fetch_one(c)
        .await)
}

/// `insert` for many emails in one statement (a mass action's), in the caller's
/// transaction. At most `MAX_ROWS_PER_INSERT` per call, to stay within both backends'
/// limits on bound parameters.
pub async fn insert_many(tx: &mut Tx, mails: &[NewMail<'_>]) -> StoreResult<()> {
    const HEAD: &str = "INSERT INTO mail_outbox (recipient, subject, text_body, html_body, \
        template, attempts, next_attempt_at, created_at) ";
    if !mails.is_empty() {
        tx.queued_work();
    }
    for chunk in mails.chunks(MAX_ROWS_PER_INSERT) {
        on_tx!(tx, c => QueryBuilder::new(HEAD)
            .push_values(chunk, |mut b, m| {
                b.push_bind(m.recipient)
                    .push_bind(m.subject)
                    .push_bind(m.text_body)
                    .push_bind(m.html_body)
                    .push_bind(m.template)
                    .push_bind(0_i32)
                    .push_bind(m.now)
                    .push_bind(m.now);
            })
            .build()
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Rows per multi-row INSERT: 8 parameters each, far below SQLite's 32,766 and
/// PostgreSQL's 65,535.
pub const MAX_ROWS_PER_INSERT: usize = 1000;

const CLAIMED_COLUMNS: &str =
    "id, recipient, subject, text_body, html_body, template, attempts, created_at";

/// The outbox as a queue (`store::jobs`): rows not sent, not given up, and due.
pub const QUEUE: Queue = Queue {
    table: "mail_outbox",
    open: "sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1",
    on_claim: "",
    columns: CLAIMED_COLUMNS,
};

/// Records delivery. `sent_at IS NULL` makes it happen once: a second report for the same
/// row (a worker whose lease ran out) changes nothing and returns false.
pub async fn mark_sent(db: &Db, id: i64, now: i64) -> StoreResult<bool> {
    const SQL: &str = "UPDATE mail_outbox SET sent_at = $2, claimed_until = NULL \
        WHERE id = $1 AND sent_at IS NULL";
    on_db!(db, p => sqlx::query(SQL)
        .bind(id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Records a failed attempt: retry at `retry_at`, or give up when it is None (the row stays,
/// with its error, for inspection). Never overrides a delivery already recorded.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    const SQL: &str = "UPDATE mail_outbox SET last_error = $2, claimed_until = NULL, \
        next_attempt_at = COALESCE($3, next_attempt_at), \
        failed_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END \
        WHERE id = $1 AND sent_at IS NULL";
    on_db!(db, p => sqlx::query(SQL)
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

const ENTRY_COLUMNS: &str = "id, recipient, subject, template, attempts, next_attempt_at, \
    last_error, claimed_until, sent_at, failed_at, created_at";

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<OutboxEntry>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM mail_outbox WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, OutboxEntry>(&sql).bind(id).fetch_optional(p).await)
}

/// The newest rows first, delivered or not.
pub async fn recent(db: &Db, limit: i64) -> StoreResult<Vec<OutboxEntry>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM mail_outbox ORDER BY id DESC LIMIT $1");
    on_db!(db, p => sqlx::query_as::<_, OutboxEntry>(&sql).bind(limit).fetch_all(p).await)
}
