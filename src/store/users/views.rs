//! `grid_views`: an administrator's own saved grid views.

use crate::domain::UserId;
use crate::store::{StoreResult, Tx, on_tx};

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct ViewRow {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub is_default: bool,
}

pub async fn insert(
    tx: &mut Tx,
    owner: UserId,
    name: &str,
    query: &str,
    now: i64,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO grid_views (owner_id, name, query, is_default, created_at) \
        VALUES ($1, $2, $3, FALSE, $4) RETURNING id";
    on_tx!(tx, c => sqlx::query_scalar(SQL).bind(owner).bind(name).bind(query).bind(now).fetch_one(c).await)
}

/// Renames one of `owner`'s views; false when there is no such view of theirs.
pub async fn rename(tx: &mut Tx, owner: UserId, id: i64, name: &str) -> StoreResult<bool> {
    const SQL: &str = "UPDATE grid_views SET name = $3 WHERE id = $1 AND owner_id = $2";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(owner).bind(name).execute(c).await.map(|r| r.rows_affected() > 0))
}

pub async fn delete(tx: &mut Tx, owner: UserId, id: i64) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM grid_views WHERE id = $1 AND owner_id = $2";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(owner).execute(c).await.map(|r| r.rows_affected() > 0))
}

/// Makes `id` the owner's only default view (`None` clears the default).
pub async fn set_default(tx: &mut Tx, owner: UserId, id: Option<i64>) -> StoreResult<bool> {
    const CLEAR: &str = "UPDATE grid_views SET is_default = FALSE WHERE owner_id = $1";
    on_tx!(tx, c => sqlx::query(CLEAR).bind(owner).execute(c).await.map(|_| ()))?;
    let Some(id) = id else { return Ok(true) };
    const SET: &str = "UPDATE grid_views SET is_default = TRUE WHERE id = $1 AND owner_id = $2";
    on_tx!(tx, c => sqlx::query(SET).bind(id).bind(owner).execute(c).await.map(|r| r.rows_affected() > 0))
}
