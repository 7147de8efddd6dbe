//! The audit log: who did what to whom, from where, when.

use super::users::filter::{Bind, bind_all, id_list};
use super::{Db, StoreResult, Tx, on_db, on_tx};
use crate::domain::UserId;
use crate::domain::audit::{AuditAction, TargetId};

/// An action as read back: the catalogue's, or None for a name this version does not know
/// (the history outlives the code that wrote it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAction {
    pub action: Option<AuditAction>,
    pub stored: String,
}

impl KnownAction {
    /// The words for it, or the stored name when this version does not know it.
    pub fn label(&self) -> &str {
        match self.action {
            Some(a) => a.label(),
            None => &self.stored,
        }
    }
}

impl From<String> for KnownAction {
    fn from(stored: String) -> Self {
        Self {
            action: AuditAction::parse(&stored),
            stored,
        }
    }
}

/// One entry; the kind of record it is about follows from its action.
pub struct Entry<'a> {
    pub actor_id: Option<UserId>,
    pub actor_name: Option<&'a str>,
    pub action: AuditAction,
    pub target_id: Option<i64>,
    pub target_label: Option<&'a str>,
    pub details: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub actor_name: Option<String>,
    /// Decoded when read; None for an action this version does not know.
    #[sqlx(try_from = "String")]
    pub action: KnownAction,
    pub details: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}

const INSERT: &str = "INSERT INTO audit_log (actor_id, actor_name, action, target_type, target_id, \
    target_label, details, ip, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

pub async fn record(tx: &mut Tx, e: &Entry<'_>) -> StoreResult<()> {
    on_tx!(tx, c => sqlx::query(INSERT)
        .bind(e.actor_id)
        .bind(e.actor_name)
        .bind(e.action.key())
        .bind(e.action.target().key())
        .bind(e.target_id)
        .bind(e.target_label)
        .bind(e.details)
        .bind(e.ip)
        .bind(e.at)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Who and when, copied into each audit row a set-based statement writes.
pub struct AuditMeta<'a> {
    pub actor_id: Option<UserId>,
    pub actor_name: &'a str,
    pub ip: Option<&'a str>,
    pub now: i64,
}

/// One `action` row per user matching `cond` (a WHERE over `users u` whose parameters are
/// `binds`), in one statement: a mass action's audit, however many users it touched.
pub async fn record_matching(
    tx: &mut Tx,
    cond: &str,
    binds: &[Bind],
    action: AuditAction,
    details: Option<&str>,
    meta: &AuditMeta<'_>,
) -> StoreResult<()> {
    let n = binds.len() + 1;
    let sql = format!(
        "INSERT INTO audit_log (actor_id, actor_name, action, target_type, target_id, \
         target_label, details, ip, created_at) \
         SELECT ${n}, ${}, ${}, 'user', u.id, u.username, ${}, ${}, ${} FROM users u WHERE {cond}",
        n + 1,
        n + 2,
        n + 3,
        n + 4,
        n + 5
    );
    on_tx!(tx, c => bind_all!(sqlx::query(&sql), binds)
        .bind(meta.actor_id)
        .bind(meta.actor_name)
        .bind(action.key())
        .bind(details)
        .bind(meta.ip)
        .bind(meta.now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// `record_matching` for the users `ids` (those that exist).
pub async fn record_for_users(
    tx: &mut Tx,
    ids: &[UserId],
    action: AuditAction,
    details: Option<&str>,
    meta: &AuditMeta<'_>,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let cond = format!("u.id IN ({})", id_list(ids));
    record_matching(tx, &cond, &[], action, details, meta).await
}

/// For events that change nothing else (a failed sign-in).
pub async fn record_alone(db: &Db, e: &Entry<'_>) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    record(&mut tx, e).await?;
    tx.commit().await
}

pub async fn recent_for<T: TargetId>(db: &Db, target: T, limit: i64) -> StoreResult<Vec<EntryRow>> {
    const SQL: &str = "SELECT actor_name, action, details, ip, created_at FROM audit_log \
        WHERE target_type = $1 AND target_id = $2 ORDER BY id DESC LIMIT $3";
    on_db!(db, p => sqlx::query_as::<_, EntryRow>(SQL)
        .bind(T::TARGET.key())
        .bind(target.into())
        .bind(limit)
        .fetch_all(p)
        .await)
}
