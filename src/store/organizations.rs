//! The `organizations` table.

use super::{Db, StoreResult, on_db};
use crate::domain::{OrganizationId, UserId};

/// The organization the first migration creates.
pub const DEFAULT_ORGANIZATION_ID: OrganizationId = 1;

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
}

/// The user's organization with the lowest id, if they belong to any.
pub async fn first_of_user(db: &Db, user: UserId) -> StoreResult<Option<OrganizationRow>> {
    const SQL: &str = "SELECT o.id, o.name, o.enabled FROM user_organizations uo \
        JOIN organizations o ON o.id = uo.organization_id \
        WHERE uo.user_id = $1 ORDER BY o.id LIMIT 1";
    on_db!(db, p => sqlx::query_as::<_, OrganizationRow>(SQL).bind(user).fetch_optional(p).await)
}
