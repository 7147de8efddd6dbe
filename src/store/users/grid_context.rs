//! What the users grid shows around its rows, read in one statement: the administrator's
//! saved views, every organization (the filter's choices) and their recent exports.
//! Three small reads were three round trips to the database per page view, each costing
//! more in process wakeups than in SQL (BENCHMARKS.md); here each list comes back as one
//! JSON array.

use std::sync::LazyLock;

use super::views::ViewRow;
use crate::domain::{OrganizationId, UserId};
use crate::store::exports::{JOB_COLUMNS, JobRow};
use crate::store::{Backend, Db, StoreResult, decode_json, on_db};

pub struct GridContext {
    pub views: Vec<ViewRow>,
    pub organizations: Vec<(OrganizationId, String)>,
    pub exports: Vec<JobRow>,
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    views: String,
    organizations: String,
    exports: String,
}

/// The statement, per backend: the same three lists, each in the order its own store
/// function gives (views by name, organizations by name key, exports newest first).
fn sql(backend: Backend) -> &'static str {
    // `to_json` of a row names each field after its column: the job's own column list.
    static POSTGRES: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT \
             COALESCE((SELECT json_agg(json_build_object('id', v.id, 'name', v.name, \
                 'query', v.query, 'is_default', v.is_default) ORDER BY v.name) \
                 FROM grid_views v WHERE v.owner_id = $1), '[]')::text AS views, \
             COALESCE((SELECT json_agg(json_build_array(o.id, o.name) ORDER BY o.name_key) \
                 FROM organizations o), '[]')::text AS organizations, \
             COALESCE((SELECT json_agg(to_json(j) ORDER BY j.id DESC) FROM \
                 (SELECT {JOB_COLUMNS} FROM export_jobs WHERE requested_by = $1 \
                  ORDER BY id DESC LIMIT $2) j), '[]')::text AS exports"
        )
    });
    match backend {
        Backend::Postgres => &POSTGRES,
        // SQLite keeps booleans as 0 and 1; `json('true')` makes them JSON booleans.
        Backend::Sqlite => {
            "SELECT \
             (SELECT json_group_array(json_object('id', v.id, 'name', v.name, \
                 'query', v.query, 'is_default', \
                 json(CASE WHEN v.is_default THEN 'true' ELSE 'false' END)) ORDER BY v.name) \
                 FROM grid_views v WHERE v.owner_id = $1) AS views, \
             (SELECT json_group_array(json_array(o.id, o.name) ORDER BY o.name_key) \
                 FROM organizations o) AS organizations, \
             (SELECT json_group_array(json_object('id', j.id, 'requested_by', j.requested_by, \
                 'query', j.query, 'fields', j.fields, 'status', j.status, \
                 'attempts', j.attempts, 'claimed_until', j.claimed_until, \
                 'rows_written', j.rows_written, \
                 'file_name', j.file_name, 'file_size', j.file_size, 'error', j.error, \
                 'created_at', j.created_at, 'started_at', j.started_at, \
                 'finished_at', j.finished_at, 'expires_at', j.expires_at) ORDER BY j.id DESC) \
                 FROM (SELECT * FROM export_jobs WHERE requested_by = $1 \
                     ORDER BY id DESC LIMIT $2) j) AS exports"
        }
    }
}

/// The grid's surroundings for administrator `owner`, with their `exports` latest exports.
pub async fn load(db: &Db, owner: UserId, exports: i64) -> StoreResult<GridContext> {
    let sql = sql(db.backend());
    let row: ContextRow =
        on_db!(db, p => sqlx::query_as(sql).bind(owner).bind(exports).fetch_one(p).await)?;
    Ok(GridContext {
        views: decode_json(&row.views)?,
        organizations: decode_json(&row.organizations)?,
        exports: decode_json(&row.exports)?,
    })
}
