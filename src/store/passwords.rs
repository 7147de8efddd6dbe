//! `password_reset_tokens`, and the columns of `users` that the reset flow changes (status,
//! password, session epoch), kept here so the flow's SQL reads in one place.

use sqlx::QueryBuilder;

use super::users::filter::id_list;
use super::{Db, StoreResult, Tx, on_db, on_tx};
use crate::domain::UserId;

/// The user a reset is about, as the flow needs them for the email and the audit entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResetUser {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub enabled: bool,
}

/// Starts a reset on the user row, which also serialises concurrent resets of one user
/// (the row lock on PostgreSQL, the write lock on SQLite) so at most one token stays live.
/// `lock_out` sets the status to `password_reset` and bumps the session epoch (the
/// administrator's reset); without it the row is only locked (a self-service request must
/// not sign anyone out). None if the user does not exist, or is disabled and
/// `only_enabled` excludes them.
pub async fn begin(
    tx: &mut Tx,
    id: UserId,
    lock_out: bool,
    only_enabled: bool,
    now: i64,
) -> StoreResult<Option<ResetUser>> {
    const SQL: &str = "UPDATE users SET \
        auth_status = CASE WHEN $2 THEN 'password_reset' ELSE auth_status END, \
        session_epoch = CASE WHEN $2 THEN session_epoch + 1 ELSE session_epoch END, \
        updated_at = CASE WHEN $2 THEN $4 ELSE updated_at END \
        WHERE id = $1 AND (enabled OR NOT $3) RETURNING id, username, email, enabled";
    on_tx!(tx, c => sqlx::query_as::<_, ResetUser>(SQL)
        .bind(id)
        .bind(lock_out)
        .bind(only_enabled)
        .bind(now)
        .fetch_optional(c)
        .await)
}

/// Removes the user's tokens that were never used: only the newest link works.
pub async fn revoke_unused(tx: &mut Tx, user: UserId) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM password_reset_tokens WHERE user_id = $1 AND used_at IS NULL";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(user)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

pub async fn insert(
    tx: &mut Tx,
    user: UserId,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO password_reset_tokens (user_id, token_hash, created_at, \
        expires_at) VALUES ($1, $2, $3, $4) RETURNING id";
    on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(user)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .fetch_one(c)
        .await)
}

/// The user a live (unused, unexpired) token belongs to.
pub async fn live_token_user(
    db: &Db,
    token_hash: &str,
    now: i64,
) -> StoreResult<Option<ResetUser>> {
    const SQL: &str = "SELECT u.id, u.username, u.email, u.enabled \
        FROM password_reset_tokens t JOIN users u ON u.id = t.user_id \
        WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2";
    on_db!(db, p => sqlx::query_as::<_, ResetUser>(SQL)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(p)
        .await)
}

/// Uses a live token in one statement and returns its user: of two requests racing with
/// the same link, exactly one gets the user, the other None.
pub async fn consume(tx: &mut Tx, token_hash: &str, now: i64) -> StoreResult<Option<UserId>> {
    const SQL: &str = "UPDATE password_reset_tokens SET used_at = $2 \
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id";
    on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(c)
        .await)
}

/// Sets a new password after a completed reset: active again, failure counter cleared, and
/// every live session ended. Returns the user, None if they no longer exist.
pub async fn set_password(
    tx: &mut Tx,
    id: UserId,
    password_hash: &str,
    now: i64,
) -> StoreResult<Option<ResetUser>> {
    const SQL: &str = "UPDATE users SET password_hash = $2, auth_status = 'active', \
        failed_login_count = 0, session_epoch = session_epoch + 1, updated_at = $3 \
        WHERE id = $1 RETURNING id, username, email, enabled";
    on_tx!(tx, c => sqlx::query_as::<_, ResetUser>(SQL)
        .bind(id)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(c)
        .await)
}

/// `begin` with `lock_out` and `only_enabled` for many users in one statement (the
/// administrator's mass reset), the acting administrator excluded by the caller. Returns
/// the users changed, by id.
pub async fn begin_many(tx: &mut Tx, ids: &[UserId], now: i64) -> StoreResult<Vec<ResetUser>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE users SET auth_status = 'password_reset', session_epoch = session_epoch + 1, \
         updated_at = $1 WHERE id IN ({}) AND enabled RETURNING id, username, email, enabled",
        id_list(ids)
    );
    let mut users = on_tx!(tx, c => sqlx::query_as::<_, ResetUser>(&sql)
        .bind(now)
        .fetch_all(c)
        .await)?;
    // RETURNING promises no order; the emails are queued in the order of the ids.
    users.sort_by_key(|u| u.id);
    Ok(users)
}

/// `revoke_unused` for many users in one statement.
pub async fn revoke_unused_many(tx: &mut Tx, users: &[UserId]) -> StoreResult<u64> {
    if users.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "DELETE FROM password_reset_tokens WHERE user_id IN ({}) AND used_at IS NULL",
        id_list(users)
    );
    on_tx!(tx, c => sqlx::query(&sql).execute(c).await.map(|r| r.rows_affected()))
}

/// Stores many (user, token hash) pairs in one statement, all created now and expiring at
/// `expires_at`.
pub async fn insert_many(
    tx: &mut Tx,
    tokens: &[(UserId, String)],
    now: i64,
    expires_at: i64,
) -> StoreResult<()> {
    if tokens.is_empty() {
        return Ok(());
    }
    const HEAD: &str =
        "INSERT INTO password_reset_tokens (user_id, token_hash, created_at, expires_at) ";
    on_tx!(tx, c => QueryBuilder::new(HEAD)
        .push_values(tokens, |mut b, (user, hash)| {
            b.push_bind(*user).push_bind(hash).push_bind(now).push_bind(expires_at);
        })
        .build()
        .execute(c)
        .await
        .map(|_| ()))
}
