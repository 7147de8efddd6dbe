//! The claim, lease and heartbeat of every queue, written once: a queue is a table whose
//! rows have an `id`, an `attempts` counter and a `claimed_until` lease, and a condition
//! that says which rows are still to be done. A claim takes the oldest open rows whose
//! lease is free in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has a
//! single writer, so the same statement is already exclusive), so instances sharing the
//! database never take the same row. Also the schedule of periodic jobs.

use sqlx::FromRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::users::filter::id_list;
use super::{Db, StoreResult, on_db};

/// A queue table.
#[derive(Debug, Clone, Copy)]
pub struct Queue {
    pub table: &'static str,
    /// Rows still to be done (`$1` is now).
    pub open: &'static str,
    /// More assignments made when a row is claimed (starting with a comma), if any.
    pub on_claim: &'static str,
    /// What a claim returns.
    pub columns: &'static str,
}

/// Claims up to `limit` open rows with a lease until `now + lease`, one more attempt
/// counted, oldest first.
pub async fn claim<R>(db: &Db, q: &Queue, now: i64, lease: i64, limit: i64) -> StoreResult<Vec<R>>
where
    R: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let lock = match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let Queue {
        table,
        open,
        on_claim,
        columns,
    } = q;
    let sql = format!(
        "UPDATE {table} SET claimed_until = $1 + $2, attempts = attempts + 1{on_claim} \
         WHERE id IN (SELECT id FROM {table} WHERE ({open}) \
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT $3{lock}) \
         RETURNING {columns}"
    );
    on_db!(db, p => sqlx::query_as::<_, R>(&sql)
        .bind(now)
        .bind(lease)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// Renews the leases of rows a live runner still holds. A row settled meanwhile (its lease
/// is gone, or it is no longer open) is left alone.
pub async fn extend(db: &Db, q: &Queue, ids: &[i64], now: i64, until: i64) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {} SET claimed_until = $2 WHERE id IN ({}) AND claimed_until IS NOT NULL AND ({})",
        q.table,
        id_list(ids),
        q.open,
    );
    on_db!(db, p => sqlx::query(&sql)
        .bind(now)
        .bind(until)
        .persistent(false)
        .execute(p)
        .await
        .map(|_| ()))
}

/// Gives back a claimed row that was not attempted (the runner is stopping), without
/// counting an attempt, so it is due again at once rather than when the lease runs out.
pub async fn release(db: &Db, q: &Queue, id: i64) -> StoreResult<()> {
    let sql = format!(
        "UPDATE {} SET claimed_until = NULL, attempts = attempts - 1 \
         WHERE id = $1 AND claimed_until IS NOT NULL",
        q.table
    );
    on_db!(db, p => sqlx::query(&sql).bind(id).execute(p).await.map(|_| ()))
}

/// The schedule of periodic jobs: one row per job, due at `next_run_at`. Claimed like any
/// queue, so one instance at a time runs each.
pub const SCHEDULE: Queue = Queue {
    table: "scheduled_jobs",
    open: "next_run_at <= $1",
    on_claim: "",
    columns: "id, name, attempts",
};

#[derive(Debug, Clone, FromRow)]
pub struct ScheduledRow {
    pub id: i64,
    pub name: String,
    pub attempts: i32,
}

/// Records a run of a periodic job: due again at `next_run_at`, its lease freed.
pub async fn reschedule(
    db: &Db,
    id: i64,
    next_run_at: i64,
    error: Option<&str>,
) -> StoreResult<()> {
    const SQL: &str = "UPDATE scheduled_jobs SET next_run_at = $2, claimed_until = NULL, \
        attempts = CASE WHEN $3 IS NULL THEN 0 ELSE attempts END, last_error = $3 WHERE id = $1";
    on_db!(db, p => sqlx::query(SQL)
        .bind(id)
        .bind(next_run_at)
        .bind(error)
        .execute(p)
        .await
        .map(|_| ()))
}
