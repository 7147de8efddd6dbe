//! The `organizations` table.

use super::{Db, StoreResult, Tx, on_db, on_tx};
use crate::domain::{OrganizationId, UserId};

/// The organization the first migration creates.
pub const DEFAULT_ORGANIZATION_ID: OrganizationId = OrganizationId(1);

pub async fn find_by_name(db: &Db, name_key: &str) -> StoreResult<Option<OrganizationId>> {
    const SQL: &str = "SELECT id FROM organizations WHERE name_key = $1";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(name_key).fetch_optional(p).await)
}

/// Every organization as (id, name), by name.
pub async fn list(db: &Db) -> StoreResult<Vec<(OrganizationId, String)>> {
    const SQL: &str = "SELECT id, name FROM organizations ORDER BY name_key";
    on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganizationRow {
    pub id: OrganizationId,
    pub name: String,
    pub enabled: bool,
    /// OroPlatform's "global access": its administrators manage every organization.
    pub is_global: bool,
    pub users: i64,
    pub created_at: i64,
}

pub async fn list_full(db: &Db) -> StoreResult<Vec<OrganizationRow>> {
    const SQL: &str = "SELECT o.id, o.name, o.enabled, o.is_global, \
        (SELECT COUNT(*) FROM user_organizations uo WHERE uo.organization_id = o.id) AS users, \
        o.created_at FROM organizations o ORDER BY o.name_key";
    on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)
}

pub async fn find(db: &Db, id: OrganizationId) -> StoreResult<Option<OrganizationRow>> {
    const SQL: &str = "SELECT o.id, o.name, o.enabled, o.is_global, \
        (SELECT COUNT(*) FROM user_organizations uo WHERE uo.organization_id = o.id) AS users, \
        o.created_at FROM organizations o WHERE o.id = $1";
    on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)
}

pub async fn insert(tx: &mut Tx, name: &str, key: &str, now: i64) -> StoreResult<OrganizationId> {
    const SQL: &str = "INSERT INTO organizations (name, name_key, enabled, created_at, updated_at) \
        VALUES ($1, $2, TRUE, $3, $3) RETURNING id";
    on_tx!(tx, c => sqlx::query_scalar(SQL).bind(name).bind(key).bind(now).fetch_one(c).await)
}

pub async fn rename(
    tx: &mut Tx,
    id: OrganizationId,
    name: &str,
    key: &str,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str =
        "UPDATE organizations SET name = $2, name_key = $3, updated_at = $4 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(name).bind(key).bind(now).execute(c).await.map(|r| r.rows_affected() > 0))
}

/// Marks or unmarks an organization as global. False when there is no such organization.
pub async fn set_global(
    tx: &mut Tx,
    id: OrganizationId,
    global: bool,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE organizations SET is_global = $2, updated_at = $3 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(global).bind(now).execute(c).await.map(|r| r.rows_affected() > 0))
}

/// How many organizations are global.
pub async fn count_global(tx: &mut Tx) -> StoreResult<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM organizations WHERE is_global = TRUE";
    on_tx!(tx, c => sqlx::query_scalar(SQL).fetch_one(c).await)
}

pub async fn set_enabled(
    tx: &mut Tx,
    id: OrganizationId,
    enabled: bool,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE organizations SET enabled = $2, updated_at = $3 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(enabled).bind(now).execute(c).await.map(|r| r.rows_affected() > 0))
}

/// Tables whose rows belong to an organization (besides memberships): (table, column,
/// singular, plural). An organization with any of these cannot be deleted.
pub const ORGANIZATION_RECORDS: &[(&str, &str, &str, &str)] = &[(
    "oauth_applications",
    "organization_id",
    "OAuth application",
    "OAuth applications",
)];

/// What blocks deleting the organization: (singular, plural, count) with count > 0,
/// members first.
pub async fn dependents(
    tx: &mut Tx,
    id: OrganizationId,
) -> StoreResult<Vec<(&'static str, &'static str, i64)>> {
    let mut out = Vec::new();
    let members = ("user_organizations", "organization_id", "user", "users");
    for (table, column, one, many) in std::iter::once(&members).chain(ORGANIZATION_RECORDS) {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        let n: i64 = on_tx!(tx, c => sqlx::query_scalar(&sql).bind(id).fetch_one(c).await)?;
        if n > 0 {
            out.push((*one, *many, n));
        }
    }
    Ok(out)
}

pub async fn delete(tx: &mut Tx, id: OrganizationId) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM organizations WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).execute(c).await.map(|r| r.rows_affected() > 0))
}

/// One organization a user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MembershipRow {
    pub id: OrganizationId,
    pub name: String,
    pub enabled: bool,
    pub is_global: bool,
}

/// The organizations a user belongs to, by name.
pub async fn of_user(db: &Db, user: UserId) -> StoreResult<Vec<MembershipRow>> {
    const SQL: &str = "SELECT o.id, o.name, o.enabled, o.is_global FROM user_organizations uo \
        JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = $1 ORDER BY o.name_key";
    on_db!(db, p => sqlx::query_as(SQL).bind(user).fetch_all(p).await)
}

pub async fn last_used(db: &Db, user: UserId) -> StoreResult<Option<OrganizationId>> {
    const SQL: &str = "SELECT last_organization_id FROM users WHERE id = $1";
    on_db!(db, p => sqlx::query_scalar::<_, Option<OrganizationId>>(SQL).bind(user).fetch_optional(p).await.map(Option::flatten))
}

pub async fn remember_last_used(tx: &mut Tx, user: UserId, org: OrganizationId) -> StoreResult<()> {
    const SQL: &str = "UPDATE users SET last_organization_id = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(user).bind(org).execute(c).await.map(|_| ()))
}
