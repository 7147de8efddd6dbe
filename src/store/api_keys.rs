//! `api_keys`: one encrypted key per user per organization.

use super::organizations::MembershipRow;
use super::users::{UserRow, by_login_sql, user_and_joined};
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
#[derive(Debug, Clone)]
pub struct MemberKeyRow {
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub organization_enabled: bool,
    pub key_ciphertext: Vec<u8>,
    pub key_nonce: Vec<u8>,
}

/// The user signing in as `login_key` (username or email key), with every key they have in
/// an organization they still belong to (in the order of `organizations::of_user`).
#[derive(Debug, Clone)]
pub struct LoginWithKeys {
    pub user: UserRow,
    pub keys: Vec<MemberKeyRow>,
    /// Every membership, with or without a key (what the user's authority is made of).
    pub memberships: Vec<MembershipRow>,
}

/// One row of the statement below: the user, and one membership with its key, or not.
#[derive(sqlx::FromRow)]
struct LoginKeyRow {
    #[sqlx(flatten)]
    user: UserRow,
    organization_id: Option<OrganizationId>,
    organization_name: Option<String>,
    organization_enabled: Option<bool>,
    organization_global: Option<bool>,
    key_ciphertext: Option<Vec<u8>>,
    key_nonce: Option<Vec<u8>>,
}

/// The user and their keys in one statement: WSSE runs this on every API request, and a
/// round trip to the database costs more than the join.
pub async fn find_login_with_keys(db: &Db, login_key: &str) -> StoreResult<Option<LoginWithKeys>> {
    let sql = format!(
        "WITH u AS ({}) \
         SELECT u.*, o.id AS organization_id, o.name AS organization_name, \
           o.enabled AS organization_enabled, o.is_global AS organization_global, \
           k.key_ciphertext, k.key_nonce \
         FROM u LEFT JOIN user_organizations uo ON uo.user_id = u.id \
         LEFT JOIN organizations o ON o.id = uo.organization_id \
         LEFT JOIN api_keys k ON k.user_id = uo.user_id AND k.organization_id = uo.organization_id \
         ORDER BY o.name_key",
        by_login_sql()
    );
    let rows: Vec<LoginKeyRow> =
        on_db!(db, p => sqlx::query_as::<_, LoginKeyRow>(&sql).bind(login_key).fetch_all(p).await)?;
    let memberships: Vec<MembershipRow> = rows
        .iter()
        .filter_map(|r| {
            Some(MembershipRow {
                id: r.organization_id?,
                name: r.organization_name.clone()?,
                enabled: r.organization_enabled?,
                is_global: r.organization_global?,
            })
        })
        .collect();
    // Memberships without a key come with NULLs, and are left out.
    let found = user_and_joined(
        rows,
        |r| {
            Some(MemberKeyRow {
                organization_id: r.organization_id?,
                organization_name: r.organization_name.clone()?,
                organization_enabled: r.organization_enabled?,
                key_ciphertext: r.key_ciphertext.clone()?,
                key_nonce: r.key_nonce.clone()?,
            })
        },
        |r| r.user,
    );
    Ok(found.map(|(user, keys)| LoginWithKeys {
        user,
        keys,
        memberships,
    }))
}
