//! `api_keys`: one encrypted key per user per organization.

use super::{Db, StoreResult, Tx, on_db, on_tx};
use crate::domain::{OrganizationId, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub key_ciphertext: Vec<u8>,
    pub key_nonce: Vec<u8>,
    pub created_at: i64,
}

pub async fn find(db: &Db, user: UserId, org: OrganizationId) -> StoreResult<Option<ApiKeyRow>> {
    const SQL: &str = "SELECT key_ciphertext, key_nonce, created_at FROM api_keys \
        WHERE user_id = $1 AND organization_id = $2";
    on_db!(db, p => sqlx::query_as::<_, ApiKeyRow>(SQL).bind(user).bind(org).fetch_optional(p).await)
}

/// Stores the key of (user, organization), replacing the previous one in the same
/// statement: the old key stops working the moment this commits.
pub async fn replace(
    tx: &mut Tx,
    user: UserId,
    org: OrganizationId,
    ciphertext: &[u8],
    nonce: &[u8],
    now: i64,
) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO api_keys (user_id, organization_id, key_ciphertext, key_nonce, created_at) \
        VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (user_id, organization_id) DO UPDATE SET key_ciphertext = EXCLUDED.key_ciphertext, \
        key_nonce = EXCLUDED.key_nonce, created_at = EXCLUDED.created_at";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(user)
        .bind(org)
        .bind(ciphertext)
        .bind(nonce)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}
