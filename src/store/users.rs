//! The `users` table and its memberships.

use super::{Db, StoreResult, Tx, on_db, on_tx};
use crate::domain::{OrganizationId, UserId};

/// Role ids fixed by the first migration.
pub const ADMIN_ROLE_ID: i64 = 1;
pub const USER_ROLE_ID: i64 = 2;

/// The columns every read of a user returns, plus whether the user is an administrator.
const USER_COLUMNS: &str = "u.id, u.username, u.email, u.name_prefix, u.first_name, u.middle_name, \
    u.last_name, u.name_suffix, u.birthday, u.phone, u.enabled, u.auth_status, \
    u.failed_login_count, u.last_login_at, u.login_count, u.password_hash, u.session_epoch, \
    u.created_at, u.updated_at, \
    EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role_id = 1) AS is_admin";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub name_prefix: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub name_suffix: Option<String>,
    pub birthday: Option<String>,
    pub phone: Option<String>,
    pub enabled: bool,
    pub auth_status: String,
    pub failed_login_count: i32,
    pub last_login_at: Option<i64>,
    pub login_count: i64,
    pub password_hash: String,
    pub session_epoch: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub is_admin: bool,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub username_key: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub enabled: bool,
    pub password_hash: &'a str,
    pub now: i64,
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)
}

pub async fn find(db: &Db, id: UserId) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    on_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(p).await)
}

/// Looks a user up by the case-insensitive key of their username or primary email.
pub async fn find_by_login(db: &Db, key: &str) -> StoreResult<Option<UserRow>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.username_key = $1 \
         UNION ALL SELECT {USER_COLUMNS} FROM users u WHERE u.email_key = $1 LIMIT 1"
    );
    on_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(key).fetch_optional(p).await)
}

/// Inserts a user; a unique violation means the username or email key is taken.
pub async fn insert(tx: &mut Tx, u: &NewUser<'_>) -> StoreResult<UserId> {
    const SQL: &str = "INSERT INTO users (username, username_key, email, email_key, first_name, \
        last_name, enabled, password_hash, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id";
    on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(u.username)
        .bind(u.username_key)
        .bind(u.email)
        .bind(u.email_key)
        .bind(u.first_name)
        .bind(u.last_name)
        .bind(u.enabled)
        .bind(u.password_hash)
        .bind(u.now)
        .fetch_one(c)
        .await)
}

/// Which of the two unique keys is taken, for a precise field error.
pub async fn key_taken(tx: &mut Tx, column_is_email: bool, key: &str) -> StoreResult<bool> {
    let sql = if column_is_email {
        "SELECT EXISTS (SELECT 1 FROM users WHERE email_key = $1)"
    } else {
        "SELECT EXISTS (SELECT 1 FROM users WHERE username_key = $1)"
    };
    on_tx!(tx, c => sqlx::query_scalar(sql).bind(key).fetch_one(c).await)
}

pub async fn add_role(tx: &mut Tx, user: UserId, role: i64) -> StoreResult<()> {
    const SQL: &str =
        "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    on_tx!(tx, c => sqlx::query(SQL).bind(user).bind(role).execute(c).await.map(|_| ()))
}

pub async fn add_organization(tx: &mut Tx, user: UserId, org: OrganizationId) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO user_organizations (user_id, organization_id) VALUES ($1, $2) \
        ON CONFLICT DO NOTHING";
    on_tx!(tx, c => sqlx::query(SQL).bind(user).bind(org).execute(c).await.map(|_| ()))
}

/// Counts one failed sign-in in a single statement, so parallel failures are never lost,
/// and locks the user when the count reaches `lock_at` (0 = never). Returns the new count
/// and status.
pub async fn record_failed_login(
    db: &Db,
    id: UserId,
    lock_at: i32,
    now: i64,
) -> StoreResult<Option<(i32, String)>> {
    const SQL: &str = "UPDATE users SET failed_login_count = failed_login_count + 1, \
        auth_status = CASE WHEN $2 > 0 AND failed_login_count + 1 >= $2 AND auth_status = 'active' \
                      THEN 'locked' ELSE auth_status END, \
        updated_at = CASE WHEN $2 > 0 AND failed_login_count + 1 >= $2 AND auth_status = 'active' \
                      THEN $3 ELSE updated_at END \
        WHERE id = $1 RETURNING failed_login_count, auth_status";
    on_db!(db, p => sqlx::query_as::<_, (i32, String)>(SQL)
        .bind(id)
        .bind(lock_at)
        .bind(now)
        .fetch_optional(p)
        .await)
}

/// A successful sign-in: clears the failure counter and records when.
pub async fn record_login(db: &Db, id: UserId, now: i64) -> StoreResult<()> {
    const SQL: &str = "UPDATE users SET failed_login_count = 0, last_login_at = $2, \
        login_count = login_count + 1 WHERE id = $1";
    on_db!(db, p => sqlx::query(SQL).bind(id).bind(now).execute(p).await.map(|_| ()))
}

/// Names of the organizations each user belongs to, for display.
pub async fn organization_names(db: &Db, ids: &[UserId]) -> StoreResult<Vec<(UserId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    // The list is made of integers we formatted ourselves, never of user input.
    let sql = format!(
        "SELECT uo.user_id, o.name FROM user_organizations uo \
         JOIN organizations o ON o.id = uo.organization_id \
         WHERE uo.user_id IN ({list}) ORDER BY uo.user_id, o.name"
    );
    on_db!(db, p => sqlx::query_as::<_, (i64, String)>(&sql).fetch_all(p).await)
}

pub async fn role_labels(db: &Db, id: UserId) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT r.label FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
        WHERE ur.user_id = $1 ORDER BY r.id";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_all(p).await)
}

/// One page of users in a fixed, allow-listed order. `order_by` is built by the grid
/// module from an enum, never from request text.
pub async fn page(db: &Db, order_by: &str, limit: i64, offset: i64) -> StoreResult<Vec<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY {order_by} LIMIT $1 OFFSET $2");
    on_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(limit).bind(offset).fetch_all(p).await)
}
