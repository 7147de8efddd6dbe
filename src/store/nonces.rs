//! `wsse_nonces`: the WSSE nonces seen while their tokens are valid, shared by every
//! process on the database.

use super::{Db, StoreResult, on_db};

/// Records a nonce until `expires_at`. False when it is already recorded and not yet
/// expired: a replay. One statement, so two processes receiving the same token at once
/// cannot both accept it. An expired row left over before the purge is taken over.
pub async fn remember(db: &Db, nonce: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
    const SQL: &str = "INSERT INTO wsse_nonces (nonce, expires_at) VALUES ($1, $2) \
        ON CONFLICT (nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at \
        WHERE wsse_nonces.expires_at < $3";
    on_db!(db, p => sqlx::query(SQL)
        .bind(nonce)
        .bind(expires_at)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected() == 1))
}

pub async fn purge_expired(db: &Db, now: i64) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM wsse_nonces WHERE expires_at < $1";
    on_db!(db, p => sqlx::query(SQL).bind(now).execute(p).await.map(|r| r.rows_affected()))
}
