//! `wsse_nonces`: the WSSE nonces seen while their tokens are valid, shared by every
//! process on the database.

use std::collections::HashSet;

use super::{Db, StoreResult, on_db};

/// Records each `(nonce, expires_at)` of a group and returns the nonces that were new: one
/// that is already recorded and not yet expired is a replay and is left out. One
/// statement, so two processes receiving the same token at once cannot both accept it. An
/// expired row left over before the purge is taken over. The nonces must be distinct.
pub async fn remember_group(
    db: &Db,
    group: &[(&str, i64)],
    now: i64,
) -> StoreResult<HashSet<String>> {
    if group.is_empty() {
        return Ok(HashSet::new());
    }
    let values: Vec<String> = (0..group.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO wsse_nonces (nonce, expires_at) VALUES {} \
         ON CONFLICT (nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at \
         WHERE wsse_nonces.expires_at < ${} RETURNING nonce",
        values.join(", "),
        2 * group.len() + 1
    );
    on_db!(db, p => {
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for &(nonce, expires_at) in group {
            q = q.bind(nonce).bind(expires_at);
        }
        q.bind(now).fetch_all(p).await.map(|new| new.into_iter().collect())
    })
}

pub async fn purge_expired(db: &Db, now: i64) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM wsse_nonces WHERE expires_at < $1";
    on_db!(db, p => sqlx::query(SQL).bind(now).execute(p).await.map(|r| r.rows_affected()))
}
