//! Exporting users to CSV: requesting a job, the exportable fields, and who may download.

use std::path::PathBuf;

use super::Actor;
use crate::config::EXPORTABLE_FIELDS;
use crate::domain::FieldError;
use crate::error::{AppError, AppResult};
use crate::grid;
use crate::state::AppState;
use crate::store::exports;
use crate::store::{audit, users::UserRow};

const FIELDS_SETTING: &str = "export.fields";

/// The fields an export writes now: the administrator's choice, else config.yml's.
pub async fn fields(state: &AppState) -> AppResult<Vec<String>> {
    if let Some(v) = exports::setting(&state.db, FIELDS_SETTING).await? {
        let chosen: Vec<String> = v
            .split(',')
            .filter(|f| EXPORTABLE_FIELDS.contains(f))
            .map(str::to_owned)
            .collect();
        if !chosen.is_empty() {
            return Ok(chosen);
        }
    }
    Ok(state.settings.export.fields.clone())
}

/// Saves the ordered list of exportable fields ("User fields" page).
pub async fn set_fields(state: &AppState, actor: &Actor, chosen: &[String]) -> AppResult<()> {
    if chosen.is_empty() {
        return Err(FieldError::new("fields", "Choose at least one field to export.").into());
    }
    if let Some(bad) = chosen
        .iter()
        .find(|f| !EXPORTABLE_FIELDS.contains(&f.as_str()))
    {
        return Err(FieldError::new("fields", format!("{bad:?} is not a user field.")).into());
    }
    let mut seen = std::collections::HashSet::new();
    if !chosen.iter().all(|f| seen.insert(f)) {
        return Err(FieldError::new("fields", "Each field can be exported once.").into());
    }
    let now = state.clock.now();
    let value = chosen.join(",");
    let mut tx = state.db.begin().await?;
    exports::set_setting(&mut tx, FIELDS_SETTING, &value, now).await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: actor.user_id,
            actor_name: Some(&actor.name),
            action: "export.fields_changed",
            target_type: "setting",
            target_id: None,
            target_label: Some(FIELDS_SETTING),
            details: Some(&value),
            ip: actor.ip.as_deref(),
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues an export of every user (`view` None) or of one grid view (its query string,
/// validated now so the job cannot fail on it later).
pub async fn request(state: &AppState, actor: &Actor, view: Option<&str>) -> AppResult<i64> {
    let requester = actor.user_id.ok_or(AppError::Unauthorized)?;
    let query = match view {
        Some(q) => Some(grid::parse_query_string(q)?.view_query()),
        None => None,
    };
    let fields = fields(state).await?.join(",");
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let id = exports::insert(&mut tx, requester, query.as_deref(), &fields, now).await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: actor.user_id,
            actor_name: Some(&actor.name),
            action: "export.requested",
            target_type: "export",
            target_id: Some(id),
            target_label: None,
            details: query.as_deref(),
            ip: actor.ip.as_deref(),
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    crate::jobs::wake_exports(state);
    Ok(id)
}

/// How many of an administrator's latest exports the grid lists.
pub const RECENT: i64 = 5;

/// What a download link leads to.
pub enum Download {
    File {
        path: PathBuf,
        name: String,
    },
    /// Kept for `export.retention_days`, then removed.
    Expired,
    /// Not finished (or failed): nothing to download.
    NotReady(String),
}

/// The file of export `id`, for its requester or an administrator only.
pub async fn download(state: &AppState, user: &UserRow, id: i64) -> AppResult<Download> {
    let job = exports::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if job.requested_by != user.id && !user.is_admin {
        // Not "forbidden": someone else's export is not theirs to know about.
        return Err(AppError::NotFound);
    }
    if job.status != "done" {
        return Ok(Download::NotReady(job.status));
    }
    let expired = job.expires_at.is_some_and(|e| e < state.clock.now());
    match job.file_name {
        Some(f) if !expired => Ok(Download::File {
            path: state.settings.export.dir.join(&f),
            name: format!("users-export-{id}.csv"),
        }),
        _ => Ok(Download::Expired),
    }
}
