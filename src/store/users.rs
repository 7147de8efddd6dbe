//! The `users` table and its memberships.

use super::organizations::MembershipRow;
use super::user_filter::{self, Bind, bind_all};
use super::{Backend, Db, StoreResult, Tx, decode_json, on_db, on_tx};
use crate::domain::query::View;
use crate::domain::query::{SortColumn, UserFilter};
use crate::domain::{AuthStatus, OrganizationId, UserId};

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
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(key).bind(except.unwrap_or(0)).fetch_one(c).await)?;
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

/// The SQL of `count_matching_upto`, its parameters numbered from `first`.
fn count_upto_sql(backend: Backend, f: &UserFilter, cap: i64, first: usize) -> (String, Vec<Bind>) {
    let w = user_filter::build(f, first, backend);
    // Active Users alone matches most rows: walking the primary key finds the cap's worth in
    // about as many rows, from pages kept in shared buffers. PostgreSQL's own choice, a
    // sequential scan, reads a large table through a small ring of buffers, so it fetches
    // the same pages from the OS again on every count (0.57 ms against 0.28 ms at a million
    // users). With any other condition the walk could go far, so only then.
    let along_id = if f.is_just(View::Active) {
        " ORDER BY u.id"
    } else {
        ""
    };
    // The cap is our constant, written into the text: PostgreSQL then plans for a LIMIT
    // it knows instead of guessing one for a parameter in a cached generic plan.
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM users u WHERE {}{along_id} LIMIT {cap}) t",
        w.sql
    );
    (sql, w.binds)
}

/// Counts the users matching `f`, stopping at `cap`: an exact count of a million rows
/// costs hundreds of milliseconds per page view, a capped one a few.
pub async fn count_matching_upto(db: &Db, f: &UserFilter, cap: i64) -> StoreResult<i64> {
    let (sql, binds) = count_upto_sql(db.backend(), f, cap, 1);
    on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), &binds).fetch_one(p).await)
}

/// About `n` keys (username and email joined, as PostgreSQL's search table joins them) of
/// users picked uniformly at random, for `users::probe`: random ids between the smallest and
/// the largest, looked up by primary key (ids of deleted users find nothing). Whole pages
/// (`TABLESAMPLE SYSTEM`) would be cheaper but hold neighbours, whose keys look alike,
/// and made a rare part of a term look absent.
pub async fn key_sample(db: &Db, n: i64) -> StoreResult<Vec<String>> {
    use rand::Rng;
    const BOUNDS: &str = "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), -1) FROM users";
    let (lo, hi): (i64, i64) = on_db!(db, p => sqlx::query_as(BOUNDS).fetch_one(p).await)?;
    if hi < lo {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = if hi - lo < n {
        (lo..=hi).collect()
    } else {
        let mut rng = rand::thread_rng();
        let mut ids: Vec<i64> = (0..n).map(|_| rng.gen_range(lo..=hi)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    // Integers we drew ourselves, written into the text (SQLite has no array parameter).
    // The text is new each time: not kept among the connection's prepared statements.
    let sql = format!(
        "SELECT username_key || ' ' || email_key FROM users WHERE id IN ({})",
        user_filter::id_list(&ids)
    );
    on_db!(db, p => sqlx::query_scalar(&sql).persistent(false).fetch_all(p).await)
}

/// The SQL of `count_matching`, its parameters numbered from `first`.
fn count_sql(backend: Backend, f: &UserFilter, first: usize) -> (String, Vec<Bind>) {
    let w = user_filter::build(f, first, backend);
    (
        format!("SELECT COUNT(*) FROM users u WHERE {}", w.sql),
        w.binds,
    )
}

pub async fn count_matching(db: &Db, f: &UserFilter) -> StoreResult<i64> {
    let (sql, binds) = count_sql(db.backend(), f, 1);
    on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), &binds).fetch_one(p).await)
}

/// From this offset on, a PostgreSQL page is a deferred join (see `page_sql`). Before it
/// the rows skipped are few, and reading the page directly is one pass instead of two.
/// SQLite always takes the deferred join: for a direct read of Disabled Users it chose the
/// `(enabled, id)` index and sorted a tenth of the table (540 ms at a million users) where
/// the join's inner query walks the partial index in order.
const DEFERRED_FROM_OFFSET: i64 = 500;

/// A page query after its SELECT list: `FROM ... ORDER BY ... LIMIT ...`.
///
/// A deep page is a deferred join: the inner query finds the page's rows selecting only
/// their key, so page 2,000 (OFFSET 49,975) walks one index without touching the table;
/// only the rows shown are then read in full. Limit and offset are integers written into
/// the text, so the planner knows them (as for the count).
fn page_from_sql(
    backend: Backend,
    f: &UserFilter,
    sort: &[(SortColumn, bool)],
    limit: i64,
    offset: i64,
) -> (String, Vec<Bind>) {
    let w = user_filter::build(f, 1, backend);
    let order = user_filter::order_by_all(sort);
    let sql = if backend == Backend::Postgres && offset < DEFERRED_FROM_OFFSET {
        format!(
            "FROM users u WHERE {} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            w.sql
        )
    } else {
        let key = user_filter::page_key(sort);
        format!(
            "FROM users u WHERE {key} IN \
             (SELECT {key} FROM users u WHERE {} ORDER BY {order} LIMIT {limit} OFFSET {offset}) \
             ORDER BY {order}",
            w.sql
        )
    };
    (sql, w.binds)
}

/// How `grid_page` counts the users matching its filter, in the same statement as the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Read the ids of the matching set once, stopping at this many, and take both the
    /// count and the page from them: a costly search (an n-gram lookup) then runs once per
    /// page view. A count of `n` means there may be more, and the page is not the
    /// filter's (it came from the first `n` found): ask again with `UpTo`.
    FewFirst(i64),
    /// Count the matching rows, stopping at this many.
    UpTo(i64),
    /// Count every matching row.
    All,
}

/// One grid page: each row with the names of its organizations, and the count. The count
/// rides on the rows, so it is None for an empty page.
pub struct ListedPage {
    pub rows: Vec<(UserRow, Vec<String>)>,
    pub matched: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    user: UserRow,
    /// A JSON array of names, sorted.
    organizations: String,
    matched: i64,
}

/// The names of the row's organizations as a JSON array, per row of a page: a correlated
/// subquery, which both engines run after the ORDER BY and LIMIT, so only for the rows
/// shown.
fn organizations_json(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "COALESCE((SELECT json_agg(o.name ORDER BY o.name)::text FROM user_organizations uo \
             JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = u.id), '[]')"
        }
        Backend::Sqlite => {
            "(SELECT json_group_array(o.name ORDER BY o.name) FROM user_organizations uo \
             JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = u.id)"
        }
    }
}

/// What `grid_page` reads: a page of the users matching a filter, and how it counts them.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    pub filter: &'a UserFilter,
    pub sort: SortColumn,
    pub desc: bool,
    pub limit: i64,
    pub offset: i64,
    pub counting: Counting,
}

/// The SQL of `grid_page`, for the benchmark's query plans too.
pub fn grid_page_sql(backend: Backend, l: &Listing) -> (String, Vec<Bind>) {
    let Listing {
        filter: f,
        sort,
        desc,
        limit,
        offset,
        counting,
    } = *l;
    let orgs = organizations_json(backend);
    let order = user_filter::order_by(sort, desc);
    match counting {
        Counting::FewFirst(n) => {
            let w = user_filter::build(f, 1, backend);
            // MATERIALIZED: the set is read once, for the count and for the page. It
            // keeps the sort column, so the page is chosen from it and only the rows shown
            // are read again, whole.
            let col = user_filter::sort_key(sort);
            let sql = format!(
                "WITH m AS MATERIALIZED (SELECT u.id, {col} FROM users u WHERE {} LIMIT {n}) \
                 SELECT {USER_COLUMNS}, {orgs} AS organizations, \
                 (SELECT COUNT(*) FROM m) AS matched \
                 FROM users u WHERE u.id IN \
                 (SELECT u.id FROM m u ORDER BY {order} LIMIT {limit} OFFSET {offset}) \
                 ORDER BY {order}",
                w.sql
            );
            (sql, w.binds)
        }
        Counting::UpTo(_) | Counting::All => {
            let (page_from, mut binds) = page_from_sql(backend, f, &[(sort, desc)], limit, offset);
            let (count, count_binds) = match counting {
                Counting::UpTo(cap) => count_upto_sql(backend, f, cap, binds.len() + 1),
                _ => count_sql(backend, f, binds.len() + 1),
            };
            binds.extend(count_binds);
            let sql = format!(
                "SELECT {USER_COLUMNS}, {orgs} AS organizations, ({count}) AS matched {page_from}"
            );
            (sql, binds)
        }
    }
}

/// One page of the grid, its rows' organizations and the count of matching users, in one
/// statement: a page view is then one round trip to the database for its rows instead of
/// three (page, count, organizations), which at 64 concurrent page views was a fifth of
/// their cost (BENCHMARKS.md).
pub async fn grid_page(db: &Db, listing: &Listing<'_>) -> StoreResult<ListedPage> {
    let (sql, binds) = grid_page_sql(db.backend(), listing);
    let rows: Vec<ListedRow> = on_db!(db, p => bind_all!(sqlx::query_as::<_, ListedRow>(&sql), &binds)
        .fetch_all(p)
        .await)?;
    let matched = rows.first().map(|r| r.matched);
    let rows = rows
        .into_iter()
        .map(|r| Ok((r.user, decode_json(&r.organizations)?)))
        .collect::<StoreResult<_>>()?;
    Ok(ListedPage { rows, matched })
}

/// One page of the users matching `f`, ordered by each allow-listed column in turn.
pub async fn page_sorted(
    db: &Db,
    f: &UserFilter,
    sort: &[(SortColumn, bool)],
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<UserRow>> {
    let (from, binds) = page_from_sql(db.backend(), f, sort, limit, offset);
    let sql = format!("SELECT {USER_COLUMNS} {from}");
    on_db!(db, p => bind_all!(sqlx::query_as::<_, UserRow>(&sql), &binds)
        .fetch_all(p)
        .await)
}

pub async fn role_ids_tx(tx: &mut Tx, id: UserId) -> StoreResult<Vec<i64>> {
    const SQL: &str = "SELECT role_id FROM user_roles WHERE user_id = $1 ORDER BY role_id";
    on_tx!(tx, c => sqlx::query_scalar(SQL).bind(id).fetch_all(c).await)
}

/// The ids of the users matching `f` (a mass action's "all matching" selection).
pub async fn ids_matching(db: &Db, f: &UserFilter) -> StoreResult<Vec<UserId>> {
    let w = user_filter::build(f, 1, db.backend());
    let sql = format!("SELECT u.id FROM users u WHERE {} ORDER BY u.id", w.sql);
    on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), &w.binds).fetch_all(p).await)
}
