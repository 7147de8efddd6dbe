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

/// A user's key in one organization they belong to, with what WSSE needs of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberKeyRow {
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub organization_enabled: bool,
    pub key_ciphertext: Vec<u8>,
    pub key_nonce: Vec<u8>,
}

/// Every key of `user` in an organization they still belong to, in the order of
/// `organizations::of_user`: one statement where WSSE made one per organization.
pub async fn of_member(db: &Db, user: UserId) -> StoreResult<Vec<MemberKeyRow>> {
    const SQL: &str = "SELECT o.id AS organization_id, o.name AS organization_name, \
        o.enabled AS organization_enabled, k.key_ciphertext, k.key_nonce \
        FROM user_organizations uo JOIN organizations o ON o.id = uo.organization_id \
        JOIN api_keys k ON k.user_id = uo.user_id AND k.organization_id = uo.organization_id \
        WHERE uo.user_id = $1 ORDER BY o.name_key";
    on_db!(db, p => sqlx::query_as::<_, MemberKeyRow>(SQL).bind(user).fetch_all(p).await)
}
