//! Set-based state changes on users: one statement per step however many users a mass
//! action selects, so 100,000 users change in one transaction without loading them.

use super::filter::{self, bind_all};
use crate::domain::UserId;
use crate::domain::audit::AuditAction;
use crate::domain::query::UserFilter;
use crate::store::{Backend, StoreResult, Tx, audit, on_tx};

pub use crate::store::audit::AuditMeta;

/// Records a user may own. Deleting a user who owns any of these is refused. Later
/// capabilities add their tables here (table, owner column, singular, plural).
pub const OWNED_RECORDS: &[(&str, &str, &str, &str)] = &[(
    "oauth_applications",
    "owner_id",
    "OAuth application",
    "OAuth applications",
)];

/// The tower-sessions table on each backend.
fn sessions_table(tx: &Tx) -> &'static str {
    match tx.backend() {
        Backend::Sqlite => "tower_sessions",
        Backend::Postgres => "\"tower_sessions\".\"session\"",
    }
}

/// Removes every session of the users matching `cond`.
async fn end_sessions_matching(tx: &mut Tx, cond: &str, binds: &[filter::Bind]) -> StoreResult<()> {
    let table = sessions_table(tx);
    let sql = format!(
        "DELETE FROM {table} WHERE id IN (SELECT s.session_id FROM user_sessions s \
         WHERE s.user_id IN (SELECT u.id FROM users u WHERE {cond}))"
    );
    on_tx!(tx, c => bind_all!(sqlx::query(&sql), binds).execute(c).await.map(|_| ()))?;
    let sql = format!(
        "DELETE FROM user_sessions WHERE user_id IN (SELECT u.id FROM users u WHERE {cond})"
    );
    on_tx!(tx, c => bind_all!(sqlx::query(&sql), binds).execute(c).await.map(|_| ()))
}

/// Enables or disables the users matching `f`, except `skip` and those already in that
/// state. Disabling ends their sessions. Returns how many changed.
pub async fn set_enabled(
    tx: &mut Tx,
    f: &UserFilter,
    enabled: bool,
    skip: Option<UserId>,
    meta: &AuditMeta<'_>,
) -> StoreResult<u64> {
    let w = filter::build(f, 1, tx.backend());
    let from = if enabled { "FALSE" } else { "TRUE" };
    let skip_sql = skip
        .map(|id| format!(" AND u.id <> {id}"))
        .unwrap_or_default();
    let cond = format!("({}) AND u.enabled = {from}{skip_sql}", w.sql);
    let action = if enabled {
        AuditAction::UserEnabled
    } else {
        AuditAction::UserDisabled
    };
    audit::record_matching(tx, &cond, &w.binds, action, None, meta).await?;
    if !enabled {
        end_sessions_matching(tx, &cond, &w.binds).await?;
    }
    let n = w.binds.len() + 1;
    let epoch = if enabled {
        ""
    } else {
        ", session_epoch = session_epoch + 1"
    };
    // The condition applies to the updated table itself (aliased `u`, as the filter
    // expects), not through `id IN (SELECT ...)`, which PostgreSQL ran as a hash join
    // over a second scan of the whole table.
    let sql = format!(
        "UPDATE users AS u SET enabled = {}, updated_at = ${n}{epoch} WHERE {cond}",
        if enabled { "TRUE" } else { "FALSE" }
    );
    on_tx!(tx, c => bind_all!(sqlx::query(&sql), &w.binds)
        .bind(meta.now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// How many of the users matching `f` have this id (0 or 1): "is it in the selection".
pub async fn selection_contains(tx: &mut Tx, f: &UserFilter, id: UserId) -> StoreResult<bool> {
    let w = filter::build(f, 1, tx.backend());
    let sql = format!(
        "SELECT COUNT(*) FROM users u WHERE ({}) AND u.id = {id}",
        w.sql
    );
    on_tx!(tx, c => bind_all!(sqlx::query_scalar::<_, i64>(&sql), &w.binds)
        .fetch_one(c)
        .await
        .map(|n| n > 0))
}

pub async fn count_admins(tx: &mut Tx, only_enabled: bool) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role_id = 1{}",
        if only_enabled {
            " WHERE u.enabled = TRUE"
        } else {
            ""
        }
    );
    on_tx!(tx, c => sqlx::query_scalar(&sql).fetch_one(c).await)
}

/// Locked → Active, counter cleared. False when the user was not locked.
pub async fn activate(tx: &mut Tx, id: UserId, meta: &AuditMeta<'_>) -> StoreResult<bool> {
    const SQL: &str = "UPDATE users SET auth_status = 'active', failed_login_count = 0, updated_at = $2 \
        WHERE id = $1 AND auth_status = 'locked'";
    let changed = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(meta.now).execute(c).await.map(|r| r.rows_affected()))?;
    if changed > 0 {
        let f = UserFilter::only(vec![id]);
        let w = filter::build(&f, 1, tx.backend());
        audit::record_matching(tx, &w.sql, &w.binds, AuditAction::UserActivated, None, meta)
            .await?;
    }
    Ok(changed > 0)
}

/// What `id` owns, per registered record kind: (singular, plural, count), counts > 0 only.
pub async fn owned_records(
    tx: &mut Tx,
    id: UserId,
) -> StoreResult<Vec<(&'static str, &'static str, i64)>> {
    let mut out = Vec::new();
    for (table, column, one, many) in OWNED_RECORDS {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        let n: i64 = on_tx!(tx, c => sqlx::query_scalar(&sql).bind(id).fetch_one(c).await)?;
        if n > 0 {
            out.push((*one, *many, n));
        }
    }
    Ok(out)
}

/// Deletes a user with their sessions; memberships, roles, saved views and keys go by
/// cascade. The audit row is written first, while the user's name can still be read.
pub async fn delete(tx: &mut Tx, id: UserId, meta: &AuditMeta<'_>) -> StoreResult<bool> {
    let f = UserFilter::only(vec![id]);
    let w = filter::build(&f, 1, tx.backend());
    audit::record_matching(tx, &w.sql, &w.binds, AuditAction::UserDeleted, None, meta).await?;
    end_sessions_matching(tx, &w.sql, &w.binds).await?;
    const SQL: &str = "DELETE FROM users WHERE id = $1";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Remembers that `session_id` belongs to `user_id`, so the session can be ended with the user.
pub async fn register_session(
    tx: &mut Tx,
    session_id: &str,
    user_id: UserId,
    now: i64,
) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO user_sessions (session_id, user_id, created_at) VALUES ($1, $2, $3) \
        ON CONFLICT (session_id) DO UPDATE SET user_id = EXCLUDED.user_id";
    on_tx!(tx, c => sqlx::query(SQL).bind(session_id).bind(user_id).bind(now).execute(c).await.map(|_| ()))
}

/// Forgets session mappings whose session expired or was removed.
pub async fn prune_session_map(tx: &mut Tx) -> StoreResult<u64> {
    let table = sessions_table(tx);
    let sql = format!("DELETE FROM user_sessions WHERE session_id NOT IN (SELECT id FROM {table})");
    on_tx!(tx, c => sqlx::query(&sql).execute(c).await.map(|r| r.rows_affected()))
}

/// Ends every session of one user except `keep` (the session making the change).
pub async fn end_sessions_of(tx: &mut Tx, user: UserId, keep: Option<&str>) -> StoreResult<()> {
    let table = sessions_table(tx);
    let keep = keep.unwrap_or("");
    let sql = format!(
        "DELETE FROM {table} WHERE id IN (SELECT session_id FROM user_sessions WHERE user_id = $1 AND session_id <> $2)"
    );
    on_tx!(tx, c => sqlx::query(&sql).bind(user).bind(keep).execute(c).await.map(|_| ()))?;
    const SQL: &str = "DELETE FROM user_sessions WHERE user_id = $1 AND session_id <> $2";
    on_tx!(tx, c => sqlx::query(SQL).bind(user).bind(keep).execute(c).await.map(|_| ()))
}
