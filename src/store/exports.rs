//! `export_jobs`, `app_settings`, and the streaming read of users for a CSV export.

use std::pin::Pin;

use futures_core::Stream;

use super::jobs::Queue;
use super::users::filter::{self, bind_all};
use super::{Backend, Db, StoreResult, Tx, on_db, on_tx};
use crate::domain::fields::UserField;
use crate::domain::query::{SortColumn, UserFilter};
use crate::domain::{ExportId, JobStatus, UserId};

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct JobRow {
    pub id: ExportId,
    pub requested_by: UserId,
    pub query: Option<String>,
    pub fields: String,
    pub status: JobStatus,
    pub attempts: i32,
    /// While running: until when the worker holding it is presumed alive.
    pub claimed_until: Option<i64>,
    pub rows_written: i64,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub expires_at: Option<i64>,
}

pub(crate) const JOB_COLUMNS: &str = "id, requested_by, query, fields, status, attempts, claimed_until, rows_written, file_name, \
    file_size, error, created_at, started_at, finished_at, expires_at";

pub async fn insert(
    tx: &mut Tx,
    requested_by: UserId,
    query: Option<&str>,
    fields: &str,
    now: i64,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO export_jobs (requested_by, query, fields, status, created_at) \
        VALUES ($1, $2, $3, 'pending', $4) RETURNING id";
    tx.queued_work();
    on_tx!(tx, c => sqlx::query_scalar(SQL).bind(requested_by).bind(query).bind(fields).bind(now).fetch_one(c).await)
}

/// Export jobs as a queue (`store::jobs`): pending, or running under a lease that ran
/// out (its process died).
pub const QUEUE: Queue = Queue {
    table: "export_jobs",
    open: "status IN ('pending', 'running')",
    on_claim: ", status = 'running', started_at = COALESCE(started_at, $1)",
    columns: JOB_COLUMNS,
};

pub async fn finish(
    tx: &mut Tx,
    id: ExportId,
    rows: i64,
    file: &str,
    size: i64,
    now: i64,
    expires: i64,
) -> StoreResult<()> {
    const SQL: &str = "UPDATE export_jobs SET status = 'done', rows_written = $2, file_name = $3, file_size = $4, \
        finished_at = $5, expires_at = $6, claimed_until = NULL, error = NULL WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(rows).bind(file).bind(size).bind(now).bind(expires).execute(c).await.map(|_| ()))
}

pub async fn fail(tx: &mut Tx, id: ExportId, error: &str, now: i64) -> StoreResult<()> {
    const SQL: &str = "UPDATE export_jobs SET status = 'failed', error = $2, finished_at = $3, claimed_until = NULL \
        WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(error).bind(now).execute(c).await.map(|_| ()))
}

pub async fn find(db: &Db, id: ExportId) -> StoreResult<Option<JobRow>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM export_jobs WHERE id = $1");
    on_db!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)
}

/// Finished jobs whose file has expired but is still named: (id, file name).
pub async fn expired_files(db: &Db, now: i64) -> StoreResult<Vec<(ExportId, String)>> {
    const SQL: &str = "SELECT id, file_name FROM export_jobs WHERE status = 'done' AND expires_at < $1 \
        AND file_name IS NOT NULL";
    on_db!(db, p => sqlx::query_as(SQL).bind(now).fetch_all(p).await)
}

pub async fn forget_file(db: &Db, id: ExportId) -> StoreResult<()> {
    const SQL: &str = "UPDATE export_jobs SET file_name = NULL WHERE id = $1";
    on_db!(db, p => sqlx::query(SQL).bind(id).execute(p).await.map(|_| ()))
}

pub async fn setting(db: &Db, name: &str) -> StoreResult<Option<String>> {
    const SQL: &str = "SELECT value FROM app_settings WHERE name = $1";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(name).fetch_optional(p).await)
}

pub async fn set_setting(tx: &mut Tx, name: &str, value: &str, now: i64) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO app_settings (name, value, updated_at) VALUES ($1, $2, $3) \
        ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at";
    on_tx!(tx, c => sqlx::query(SQL).bind(name).bind(value).bind(now).execute(c).await.map(|_| ()))
}

/// A user as exported: every column plus organization and role names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    #[sqlx(flatten)]
    pub user: super::users::UserRow,
    pub organizations: Option<String>,
    pub roles: Option<String>,
}

pub type RowStream<'a> = Pin<Box<dyn Stream<Item = StoreResult<ExportRow>> + Send + 'a>>;

/// `UserRow`'s columns, each with the export field that needs it (None: no field does)
/// and what stands in its place when it is not read (a constant of the same type).
const USER_ROW_COLUMNS: &[(&str, Option<UserField>, &str)] = &[
    ("u.id", Some(UserField::Id), "u.id"),
    ("u.username", Some(UserField::Username), "''"),
    ("u.email", Some(UserField::Email), "''"),
    (
        "u.name_prefix",
        Some(UserField::NamePrefix),
        "CAST(NULL AS TEXT)",
    ),
    (
        "u.first_name",
        Some(UserField::FirstName),
        "CAST(NULL AS TEXT)",
    ),
    (
        "u.middle_name",
        Some(UserField::MiddleName),
        "CAST(NULL AS TEXT)",
    ),
    (
        "u.last_name",
        Some(UserField::LastName),
        "CAST(NULL AS TEXT)",
    ),
    (
        "u.name_suffix",
        Some(UserField::NameSuffix),
        "CAST(NULL AS TEXT)",
    ),
    (
        "u.birthday",
        Some(UserField::Birthday),
        "CAST(NULL AS TEXT)",
    ),
    ("u.phone", Some(UserField::Phone), "CAST(NULL AS TEXT)"),
    ("u.enabled", Some(UserField::Enabled), "FALSE"),
    ("u.auth_status", Some(UserField::AuthStatus), "'active'"),
    ("u.failed_login_count", None, "0"),
    (
        "u.last_login_at",
        Some(UserField::LastLoginAt),
        "CAST(NULL AS BIGINT)",
    ),
    (
        "u.login_count",
        Some(UserField::LoginCount),
        "CAST(0 AS BIGINT)",
    ),
    ("u.password_hash", Some(UserField::PasswordHash), "''"),
    ("u.session_epoch", None, "CAST(0 AS BIGINT)"),
    (
        "u.created_at",
        Some(UserField::CreatedAt),
        "CAST(0 AS BIGINT)",
    ),
    (
        "u.updated_at",
        Some(UserField::UpdatedAt),
        "CAST(0 AS BIGINT)",
    ),
    ("is_admin", None, "FALSE"),
];

/// The SELECT list of `UserRow` for an export of `fields`: only exported columns are read.
/// Each column read is a value decoded and copied per user, and `is_admin` (which no
/// export writes) is a subquery per user: reading them all made a million-user export on
/// SQLite take 8.2 s instead of 5.1 s.
fn user_columns(fields: &[UserField]) -> String {
    USER_ROW_COLUMNS
        .iter()
        .map(|(column, field, stand_in)| {
            let name = column.trim_start_matches("u.");
            if field.is_some_and(|f| fields.contains(&f)) {
                (*column).to_owned()
            } else {
                format!("{stand_in} AS {name}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Streams the users matching `f` in the grid's order: one query, read row by row, so
/// memory does not grow with the number of users. Only the columns `fields` need are read
/// (the others hold a stand-in), and organization and role names only when asked for.
pub fn stream<'a>(
    db: &'a Db,
    f: &UserFilter,
    sort: SortColumn,
    desc: bool,
    fields: &[UserField],
    sql_out: &'a mut String,
    binds_out: &'a mut Vec<filter::Bind>,
) -> RowStream<'a> {
    let w = filter::build(f, 1, db.backend());
    let with_names = fields
        .iter()
        .any(|f| matches!(f, UserField::Organizations | UserField::Roles));
    let names = if !with_names {
        "NULL AS organizations, NULL AS roles".to_owned()
    } else {
        match db.backend() {
            Backend::Postgres => "(SELECT string_agg(o.name, ', ' ORDER BY o.name) FROM user_organizations uo \
                 JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = u.id) AS organizations, \
                 (SELECT string_agg(r.label, ', ' ORDER BY r.id) FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
                 WHERE ur.user_id = u.id) AS roles"
                .to_owned(),
            Backend::Sqlite => "(SELECT group_concat(name, ', ') FROM (SELECT o.name FROM user_organizations uo \
                 JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = u.id ORDER BY o.name)) AS organizations, \
                 (SELECT group_concat(label, ', ') FROM (SELECT r.label FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
                 WHERE ur.user_id = u.id ORDER BY r.id)) AS roles"
                .to_owned(),
        }
    };
    *sql_out = format!(
        "SELECT {}, {names} FROM users u WHERE {} ORDER BY {}",
        user_columns(fields),
        w.sql,
        filter::order_by(sort, desc)
    );
    *binds_out = w.binds;
    let sql: &'a str = sql_out.as_str();
    let binds: &'a [filter::Bind] = binds_out.as_slice();
    on_db!(db, p => Box::pin(bind_all!(sqlx::query_as::<_, ExportRow>(sql), binds).fetch(p)) as RowStream<'a>)
}

#[cfg(test)]
mod tests {
    /// The export's column list stands in for `UserRow`'s: the same columns, in the same
    /// order, so a column added to one and not the other fails here, not in a job.
    #[test]
    fn export_columns_follow_the_user_row() {
        let name = |c: &str| {
            let c = c.trim();
            c.rsplit(" AS ")
                .next()
                .unwrap_or(c)
                .trim_start_matches("u.")
                .to_owned()
        };
        let row: Vec<String> = crate::store::users::USER_COLUMNS
            .split(',')
            .map(name)
            .collect();
        let export: Vec<String> = super::USER_ROW_COLUMNS
            .iter()
            .map(|(c, _, _)| name(c))
            .collect();
        assert_eq!(export, row);
    }
}
