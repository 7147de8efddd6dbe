//! The `users` table and its memberships, and what reads or changes users in sets: the
//! filter as SQL, the grid's page, the set-based lifecycle statements, saved views.

pub mod filter;
pub mod grid;
pub mod grid_context;
pub mod lifecycle;
pub mod views;

pub use grid::{
    Counting, ListedPage, Listing, count_matching, count_matching_upto, grid_page, grid_page_sql,
    key_sample, page_sorted,
};

use self::filter::bind_all;
use crate::domain::query::UserFilter;
use crate::domain::{AuthStatus, OrganizationId, UserId};
use crate::store::organizations::MembershipRow;
use crate::store::{Db, StoreResult, Tx, on_db, on_tx};

/// Role ids fixed by the first migration.
pub const ADMIN_ROLE_ID: i64 = 1;
pub const USER_ROLE_ID: i64 = 2;

/// The columns every read of a user returns, plus whether the user is an administrator.
pub const USER_COLUMNS: &str = "u.id, u.username, u.email, u.name_prefix, u.first_name, u.middle_name, \
    u.last_name, u.name_suffix, u.birthday, u.phone, u.enabled, u.auth_status, \
    u.failed_login_count, u.last_login_at, u.login_count, u.password_hash, u.session_epoch, \
    u.created_at, u.updated_at, \
    EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role_id = 1) AS is_admin";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: UserId,
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
    pub auth_status: AuthStatus,
    pub failed_login_count: i32,
    pub last_login_at: Option<i64>,
    pub login_count: i64,
    pub password_hash: String,
    pub session_epoch: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub is_admin: bool,
}

/// Every profile column of a user, as the store writes it.
pub struct ProfileRow<'a> {
    pub username: &'a str,
    pub username_key: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub name_prefix: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub middle_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub name_suffix: Option<&'a str>,
    pub birthday: Option<&'a str>,
    pub phone: Option<&'a str>,
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)
}

pub async fn find(db: &Db, id: UserId) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    on_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(p).await)
}

/// A user with their organizations, ordered by name.
#[derive(Debug, Clone)]
pub struct UserWithOrganizations {
    pub user: UserRow,
    pub organizations: Vec<MembershipRow>,
}

#[derive(sqlx::FromRow)]
struct UserOrganizationRow {
    #[sqlx(flatten)]
    user: UserRow,
    organization_id: Option<OrganizationId>,
    organization_name: Option<String>,
    organization_enabled: Option<bool>,
    organization_global: Option<bool>,
}

/// `find` and the user's organizations in one statement: every signed-in page needs both.
pub async fn find_with_organizations(
    db: &Db,
    id: UserId,
) -> StoreResult<Option<UserWithOrganizations>> {
    let sql = format!(
        "WITH u AS (SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1) \
         SELECT u.*, o.id AS organization_id, o.name AS organization_name, \
           o.enabled AS organization_enabled, o.is_global AS organization_global \
         FROM u LEFT JOIN user_organizations uo ON uo.user_id = u.id \
         LEFT JOIN organizations o ON o.id = uo.organization_id \
         ORDER BY o.name_key"
    );
    let rows: Vec<UserOrganizationRow> = on_db!(db, p => sqlx::query_as::<_, UserOrganizationRow>(&sql).bind(id).fetch_all(p).await)?;
    let found = user_and_joined(
        rows,
        |r| {
            Some(MembershipRow {
                id: r.organization_id?,
                name: r.organization_name.clone()?,
                enabled: r.organization_enabled?,
                is_global: r.organization_global?,
            })
        },
        |r| r.user,
    );
    Ok(found.map(|(user, organizations)| UserWithOrganizations {
        user,
        organizations,
    }))
}

/// Rows of one user LEFT JOINed to their memberships: the user (the same on every row) and
/// what each row joined, where it joined anything (a user with no membership comes as one
/// row of NULLs). None when there are no rows: no such user.
pub(super) fn user_and_joined<R, T>(
    rows: Vec<R>,
    joined: impl Fn(&R) -> Option<T>,
    user: impl FnOnce(R) -> UserRow,
) -> Option<(UserRow, Vec<T>)> {
    let parts = rows.iter().filter_map(joined).collect();
    let first = rows.into_iter().next()?;
    Some((user(first), parts))
}

/// The statement selecting the user who signs in as `$1`: by username key, else by email key.
pub(super) fn by_login_sql() -> String {
    format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.username_key = $1 \
         UNION ALL SELECT {USER_COLUMNS} FROM users u WHERE u.email_key = $1 LIMIT 1"
    )
}

/// Looks a user up by the case-insensitive key of their username or primary email.
pub async fn find_by_login(db: &Db, key: &str) -> StoreResult<Option<UserRow>> {
    let sql = by_login_sql();
    on_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(key).fetch_optional(p).await)
}

/// Inserts a user; a unique violation means the username or email key is taken.
pub async fn insert(
    tx: &mut Tx,
    p: &ProfileRow<'_>,
    enabled: bool,
    password_hash: &str,
    now: i64,
) -> StoreResult<UserId> {
    const SQL: &str = "INSERT INTO users (username, username_key, email, email_key, name_prefix, \
        first_name, middle_name, last_name, name_suffix, birthday, phone, enabled, password_hash, \
        created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id";
    on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(p.username)
        .bind(p.username_key)
        .bind(p.email)
        .bind(p.email_key)
        .bind(p.name_prefix)
        .bind(p.first_name)
        .bind(p.middle_name)
        .bind(p.last_name)
        .bind(p.name_suffix)
        .bind(p.birthday)
        .bind(p.phone)
        .bind(enabled)
        .bind(password_hash)
        .bind(now)
        .fetch_one(c)
        .await)
}

pub async fn update_profile(
    tx: &mut Tx,
    id: UserId,
    p: &ProfileRow<'_>,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE users SET username = $2, username_key = $3, email = $4, email_key = $5, \
        name_prefix = $6, first_name = $7, middle_name = $8, last_name = $9, name_suffix = $10, \
        birthday = $11, phone = $12, updated_at = $13 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(id)
        .bind(p.username)
        .bind(p.username_key)
        .bind(p.email)
        .bind(p.email_key)
        .bind(p.name_prefix)
        .bind(p.first_name)
        .bind(p.middle_name)
        .bind(p.last_name)
        .bind(p.name_suffix)
        .bind(p.birthday)
        .bind(p.phone)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// Replaces the user's roles with `roles`.
pub async fn set_roles(tx: &mut Tx, user: UserId, roles: &[i64]) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM user_roles WHERE user_id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(user).execute(c).await.map(|_| ()))?;
    for r in roles {
        add_role(tx, user, *r).await?;
    }
    Ok(())
}

/// Replaces the user's organizations with `orgs`.
pub async fn set_organizations(
    tx: &mut Tx,
    user: UserId,
    orgs: &[OrganizationId],
) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM user_organizations WHERE user_id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(user).execute(c).await.map(|_| ()))?;
    for o in orgs {
        add_organization(tx, user, *o).await?;
    }
    Ok(())
}

pub async fn organization_ids(db: &Db, id: UserId) -> StoreResult<Vec<OrganizationId>> {
    const SQL: &str = "SELECT organization_id FROM user_organizations WHERE user_id = $1 ORDER BY organization_id";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_all(p).await)
}

pub async fn role_ids(db: &Db, id: UserId) -> StoreResult<Vec<i64>> {
    const SQL: &str = "SELECT role_id FROM user_roles WHERE user_id = $1 ORDER BY role_id";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_all(p).await)
}

/// Whether another user (not `except`) has this username key or email key, for a
/// precise field error.
pub async fn key_taken(
    tx: &mut Tx,
    column_is_email: bool,
    key: &str,
    except: Option<UserId>,
) -> StoreResult<bool> {
    let sql = if column_is_email {
        "SELECT COUNT(*) FROM users WHERE email_key = $1 AND id <> $2"
    } else {
        "SELECT COUNT(*) FROM users WHERE username_key = $1 AND id <> $2"
    };
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(key).bind(except.map_or(0, UserId::get)).fetch_one(c).await)?;
    Ok(n > 0)
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

/// Counts one failed sign-in of an active user in a single statement, so parallel failures
/// are never lost, and locks the user when the count reaches `lock_at` (0 = never).
/// Returns the new count and status; None when the user is not active (nothing counted), so
/// exactly one statement returns "locked" for each lock.
pub async fn record_failed_login(
    db: &Db,
    id: UserId,
    lock_at: i32,
    now: i64,
) -> StoreResult<Option<(i32, AuthStatus)>> {
    const SQL: &str = "UPDATE users SET failed_login_count = failed_login_count + 1, \
        auth_status = CASE WHEN $2 > 0 AND failed_login_count + 1 >= $2 \
                      THEN 'locked' ELSE auth_status END, \
        updated_at = CASE WHEN $2 > 0 AND failed_login_count + 1 >= $2 \
                      THEN $3 ELSE updated_at END \
        WHERE id = $1 AND auth_status = 'active' RETURNING failed_login_count, auth_status";
    on_db!(db, p => sqlx::query_as::<_, (i32, AuthStatus)>(SQL)
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

/// Names of the organizations a user belongs to, for display (a grid page reads its rows'
/// in the same statement as the rows: `grid_page`).
pub async fn organization_names(db: &Db, id: UserId) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT o.name FROM user_organizations uo \
        JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = $1 ORDER BY o.name";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_all(p).await)
}

pub async fn role_labels(db: &Db, id: UserId) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT r.label FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
        WHERE ur.user_id = $1 ORDER BY r.id";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_all(p).await)
}

pub async fn role_ids_tx(tx: &mut Tx, id: UserId) -> StoreResult<Vec<i64>> {
    const SQL: &str = "SELECT role_id FROM user_roles WHERE user_id = $1 ORDER BY role_id";
    on_tx!(tx, c => sqlx::query_scalar(SQL).bind(id).fetch_all(c).await)
}

/// The ids of the users matching `f` (a mass action's "all matching" selection).
pub async fn ids_matching(db: &Db, f: &UserFilter) -> StoreResult<Vec<UserId>> {
    let w = filter::build(f, 1, db.backend());
    let sql = format!("SELECT u.id FROM users u WHERE {} ORDER BY u.id", w.sql);
    on_db!(db, p => bind_all!(sqlx::query_scalar::<_, UserId>(&sql), &w.binds).fetch_all(p).await)
}
