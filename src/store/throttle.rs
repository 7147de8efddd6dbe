//! `rate_limits`: fixed-window counters shared by every process on the database.

use super::{Db, StoreResult, Tx, on_db, on_tx};

/// Counts one event for `key` in the window starting at `window_start` and returns the
/// count including it. One upsert, so concurrent requests are never lost.
pub async fn hit(tx: &mut Tx, key: &str, window_start: i64) -> StoreResult<i32> {
    const SQL: &str = "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
        ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 \
        RETURNING count";
    on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(key)
        .bind(window_start)
        .fetch_one(c)
        .await)
}

/// The counts of `keys` in the window starting at `window_start` (keys never hit are absent).
pub async fn counts(db: &Db, keys: &[&str], window_start: i64) -> StoreResult<Vec<(String, i32)>> {
    const SQL: &str =
        "SELECT key, count FROM rate_limits WHERE window_start = $1 AND key IN ($2, $3)";
    let (a, b) = match keys {
        [a, b] => (*a, *b),
        [a] => (*a, *a),
        _ => return Ok(Vec::new()),
    };
    on_db!(db, p => sqlx::query_as(SQL).bind(window_start).bind(a).bind(b).fetch_all(p).await)
}

/// Counts one event for each of `keys` (one or two) in one statement.
pub async fn hit_many(db: &Db, keys: &[&str], window_start: i64) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $3, 1), ($2, $3, 1) \
        ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1";
    const ONE: &str = "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
        ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1";
    match keys {
        [a, b] if a != b => {
            on_db!(db, p => sqlx::query(SQL).bind(*a).bind(*b).bind(window_start).execute(p).await.map(|_| ()))
        }
        [a, ..] => {
            on_db!(db, p => sqlx::query(ONE).bind(*a).bind(window_start).execute(p).await.map(|_| ()))
        }
        [] => Ok(()),
    }
}

/// Forgets windows that started before `before`; they can no longer limit anything. A
/// statement of its own, outside the caller's transaction, so concurrent requests do not
/// hold each other's row locks while they do their real work.
pub async fn prune(db: &Db, before: i64) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM rate_limits WHERE window_start < $1";
    on_db!(db, p => sqlx::query(SQL)
        .bind(before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}
