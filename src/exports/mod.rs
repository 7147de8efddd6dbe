//! Exporting users to CSV: requesting a job, the exportable fields, and who may download.

pub mod csv;
pub mod files;
pub mod notify;

use std::path::PathBuf;

use crate::access::Actor;
use crate::config::EXPORTABLE_FIELDS;
use crate::domain::audit::AuditAction;
use crate::domain::{ExportId, FieldError, JobStatus};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::audit;
use crate::store::exports;
use crate::users::grid;

/// The users an export job writes: its filter narrowed to what its requester manages when
/// it runs (a requester who no longer administers users gets a failed job, not a file).
pub async fn job_filter(
    state: &AppState,
    requested_by: crate::domain::UserId,
    filter: crate::domain::query::UserFilter,
) -> AppResult<crate::domain::query::UserFilter> {
    let requester = crate::store::users::find_with_organizations(&state.db, requested_by)
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = Actor {
        user_id: Some(requested_by),
        name: requester.user.username.clone(),
        ip: None,
        authority: crate::access::authority::of_user(
            requester.user.is_admin,
            &requester.organizations,
        ),
    };
    actor.require_admin()?;
    Ok(crate::access::authority::restrict(&actor, filter))
}

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
    // One setting for every organization's exports.
    actor.require_global()?;
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
    let mut tx = state.begin().await?;
    exports::set_setting(&mut tx, FIELDS_SETTING, &value, now).await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: actor.user_id,
            actor_name: Some(&actor.name),
            action: AuditAction::ExportFieldsChanged,
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
    actor.require_admin()?;
    let requester = actor.user_id.ok_or(AppError::Unauthorized)?;
    let query = match view {
        Some(q) => Some(grid::parse_query_string(q)?.view_query()),
        None => None,
    };
    let fields = fields(state).await?.join(",");
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    let id = exports::insert(&mut tx, requester, query.as_deref(), &fields, now).await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: actor.user_id,
            actor_name: Some(&actor.name),
            action: AuditAction::ExportRequested,
            target_id: Some(id),
            target_label: None,
            details: query.as_deref(),
            ip: actor.ip.as_deref(),
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records how an export job ended, with the email to its requester, in one transaction:
/// the email exists exactly when the result does.
pub async fn record(
    state: &AppState,
    job: &crate::store::exports::JobRow,
    how: crate::jobs::runner::Settle<(i64, String, i64)>,
) -> AppResult<()> {
    use crate::jobs::runner::Settle;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    match how {
        Settle::Done((rows, file, size)) => {
            let expires = now + i64::from(state.settings.export.retention_days) * 86_400;
            exports::finish(&mut tx, job.id, rows, &file, size, now, expires).await?;
            notify::finished(state, &mut tx, job, rows, expires).await?;
        }
        Settle::RetryAt(_, reason) | Settle::GiveUp(reason) => {
            tracing::error!(job = job.id.get(), error = %reason, "export failed");
            exports::fail(&mut tx, job.id, &reason, now).await?;
            notify::failed(state, &mut tx, job, &reason).await?;
        }
        Settle::Release => return Ok(()),
    }
    tx.commit().await?;
    Ok(())
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

/// The file of export `id`: for its requester while they administer users, or for an
/// administrator who manages every organization. The file holds password hashes of the
/// users its requester managed, so nobody with a narrower reach may read it.
pub async fn download(state: &AppState, actor: &Actor, id: ExportId) -> AppResult<Download> {
    let job = exports::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let requester = actor.user_id == Some(job.requested_by);
    if !((requester && actor.authority.is_admin()) || actor.authority.is_global()) {
        // Not "forbidden": someone else's export is not theirs to know about.
        return Err(AppError::NotFound);
    }
    if job.status != JobStatus::Done {
        return Ok(Download::NotReady(job.status.to_string()));
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
