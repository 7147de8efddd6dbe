//! The `oauth_applications` table. The secret hash leaves the store only through
//! `find_client`, for the token endpoint's check.

use super::{Db, StoreResult, Tx, on_db, on_tx};
use crate::domain::{AppId, AuthStatus, OrganizationId, UserId};

/// An application as the pages list it, with its owner's and organization's names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub id: AppId,
    pub owner_id: UserId,
    pub owner_username: String,
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub grant_type: String,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const APP_COLUMNS: &str = "a.id, a.owner_id, u.username AS owner_username, a.organization_id, \
    o.name AS organization_name, a.name, a.client_id, a.active, a.grant_type, a.last_used_at, \
    a.created_at, a.updated_at";
const APP_FROM: &str = "oauth_applications a JOIN users u ON u.id = a.owner_id \
    JOIN organizations o ON o.id = a.organization_id";

/// A client as the token endpoint and the API see it: whether it may be used now is
/// decided from these columns, read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub id: AppId,
    pub owner_id: UserId,
    pub organization_id: OrganizationId,
    pub client_id: String,
    pub secret_hash: String,
    pub active: bool,
    pub last_used_at: Option<i64>,
    pub owner_enabled: bool,
    pub owner_status: AuthStatus,
    pub organization_enabled: bool,
    /// The owner still belongs to the application's organization.
    pub owner_member: bool,
}

/// Which applications a list shows; `None` means "any". `name_like` is a ready LIKE
/// pattern over the lower-cased name.
#[derive(Debug, Clone, Default)]
pub struct AppFilter {
    pub owner: Option<UserId>,
    pub name_like: Option<String>,
    pub organization: Option<OrganizationId>,
    pub active: Option<bool>,
    pub never_used: bool,
    pub used_since: Option<i64>,
    /// Only applications of these organizations whose owners belong to these
    /// organizations and no other (an administrator's reach); None means any.
    pub within: Option<Vec<OrganizationId>>,
}

// Every filter is a bound parameter that is either NULL (no condition) or the value, so
// the SQL text is fixed.
const FILTER: &str = "($1 IS NULL OR a.owner_id = $1) \
    AND ($2 IS NULL OR LOWER(a.name) LIKE $2 ESCAPE '\\') \
    AND ($3 IS NULL OR a.organization_id = $3) \
    AND ($4 IS NULL OR a.active = $4) \
    AND ($5 = FALSE OR a.last_used_at IS NULL) \
    AND ($6 IS NULL OR a.last_used_at >= $6)";

/// `FILTER` with the reach condition, whose ids come from the rules (integers, never text
/// from a request).
fn filter_sql(f: &AppFilter) -> String {
    match &f.within {
        None => FILTER.to_owned(),
        Some(orgs) => {
            let list = if orgs.is_empty() {
                "NULL".to_owned()
            } else {
                super::users::filter::id_list(orgs)
            };
            format!(
                "{FILTER} AND a.organization_id IN ({list}) \
                 AND NOT EXISTS (SELECT 1 FROM user_organizations uo WHERE uo.user_id = a.owner_id \
                 AND uo.organization_id NOT IN ({list}))"
            )
        }
    }
}

macro_rules! bind_filter {
    ($q:expr, $f:expr) => {
        $q.bind($f.owner)
            .bind($f.name_like.as_deref())
            .bind($f.organization)
            .bind($f.active)
            .bind($f.never_used)
            .bind($f.used_since)
    };
}

pub async fn list(db: &Db, f: &AppFilter, limit: i64, offset: i64) -> StoreResult<Vec<AppRow>> {
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM {APP_FROM} WHERE {} \
         ORDER BY LOWER(a.name), a.id LIMIT $7 OFFSET $8",
        filter_sql(f)
    );
    on_db!(db, p => bind_filter!(sqlx::query_as::<_, AppRow>(&sql), f)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await)
}

pub async fn count(db: &Db, f: &AppFilter) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM oauth_applications a WHERE {}",
        filter_sql(f)
    );
    on_db!(db, p => bind_filter!(sqlx::query_scalar::<_, i64>(&sql), f).fetch_one(p).await)
}

pub async fn find(db: &Db, id: AppId) -> StoreResult<Option<AppRow>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM {APP_FROM} WHERE a.id = $1");
    on_db!(db, p => sqlx::query_as::<_, AppRow>(&sql).bind(id).fetch_optional(p).await)
}

pub async fn find_tx(tx: &mut Tx, id: AppId) -> StoreResult<Option<AppRow>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM {APP_FROM} WHERE a.id = $1");
    on_tx!(tx, c => sqlx::query_as::<_, AppRow>(&sql).bind(id).fetch_optional(c).await)
}

pub async fn find_client(db: &Db, client_id: &str) -> StoreResult<Option<ClientRow>> {
    const SQL: &str = "SELECT a.id, a.owner_id, a.organization_id, a.client_id, a.secret_hash, \
        a.active, a.last_used_at, u.enabled AS owner_enabled, u.auth_status AS owner_status, \
        o.enabled AS organization_enabled, \
        EXISTS (SELECT 1 FROM user_organizations uo \
                WHERE uo.user_id = a.owner_id AND uo.organization_id = a.organization_id) AS owner_member \
        FROM oauth_applications a JOIN users u ON u.id = a.owner_id \
        JOIN organizations o ON o.id = a.organization_id WHERE a.client_id = $1";
    on_db!(db, p => sqlx::query_as::<_, ClientRow>(SQL).bind(client_id).fetch_optional(p).await)
}

pub struct NewApp<'a> {
    pub owner_id: UserId,
    pub organization_id: OrganizationId,
    pub name: &'a str,
    pub client_id: &'a str,
    pub secret_hash: &'a str,
    pub active: bool,
}

pub async fn insert(tx: &mut Tx, a: &NewApp<'_>, now: i64) -> StoreResult<AppId> {
    const SQL: &str = "INSERT INTO oauth_applications (owner_id, organization_id, name, client_id, \
        secret_hash, active, grant_type, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, 'client_credentials', $7, $7) RETURNING id";
    on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(a.owner_id)
        .bind(a.organization_id)
        .bind(a.name)
        .bind(a.client_id)
        .bind(a.secret_hash)
        .bind(a.active)
        .bind(now)
        .fetch_one(c)
        .await)
}

pub async fn update(
    tx: &mut Tx,
    id: AppId,
    name: &str,
    active: bool,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str =
        "UPDATE oauth_applications SET name = $2, active = $3, updated_at = $4 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(name).bind(active).bind(now)
        .execute(c).await.map(|r| r.rows_affected() > 0))
}

/// False when the application is missing or already in that state.
pub async fn set_active(tx: &mut Tx, id: AppId, active: bool, now: i64) -> StoreResult<bool> {
    const SQL: &str = "UPDATE oauth_applications SET active = $2, updated_at = $3 \
        WHERE id = $1 AND active <> $2";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(active).bind(now)
        .execute(c).await.map(|r| r.rows_affected() > 0))
}

pub async fn set_secret_hash(tx: &mut Tx, id: AppId, hash: &str, now: i64) -> StoreResult<bool> {
    const SQL: &str =
        "UPDATE oauth_applications SET secret_hash = $2, updated_at = $3 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(hash).bind(now)
        .execute(c).await.map(|r| r.rows_affected() > 0))
}

pub async fn delete(tx: &mut Tx, id: AppId) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM oauth_applications WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).execute(c).await.map(|r| r.rows_affected() > 0))
}

/// How stale `last_used_at` may be: a client is touched at most once per this many seconds,
/// so a busy client costs one write a minute, not one per token. The column (and the "Last
/// Used At" column and filters built on it) is therefore right to within a minute.
pub const LAST_USED_RESOLUTION: i64 = 60;

/// Whether `touch_last_used` would write for a client last used at `last_used_at`.
pub fn last_used_is_stale(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|t| t <= now - LAST_USED_RESOLUTION)
}

/// Moves `last_used_at` to `now` when it is at least `LAST_USED_RESOLUTION` seconds older
/// (or unset); never back, whatever order parallel requests finish in.
pub async fn touch_last_used(db: &Db, id: AppId, now: i64) -> StoreResult<()> {
    const SQL: &str = "UPDATE oauth_applications SET last_used_at = $2 \
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2 - $3)";
    on_db!(db, p => sqlx::query(SQL).bind(id).bind(now).bind(LAST_USED_RESOLUTION)
        .execute(p).await.map(|_| ()))
}
