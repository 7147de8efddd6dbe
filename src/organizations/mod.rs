//! Organizations: managing them, and which one a signed-in user works in.

use crate::access::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::{FieldError, OrganizationId, UserId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{self, audit, organizations};

pub use crate::store::organizations::{MembershipRow, OrganizationRow};

fn parse_name(raw: &str) -> AppResult<(String, String)> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "This value should not be blank.").into());
    }
    if name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(
            FieldError::new("name", "An organization name has at most 255 characters.").into(),
        );
    }
    Ok((name.to_owned(), name.to_lowercase()))
}

fn name_taken(e: sqlx::Error) -> AppError {
    if store::is_unique_violation(&e) {
        FieldError::new("name", "An organization with this name already exists.").into()
    } else {
        e.into()
    }
}

/// The organizations the actor manages, with their member counts.
pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<OrganizationRow>> {
    actor.require_admin()?;
    let mut all = organizations::list_full(&state.db).await?;
    all.retain(|o| actor.authority.manages_organization(o.id));
    Ok(all)
}

/// The organizations the actor manages as (id, name), by name: what forms and filters
/// offer, and what a user may be placed in.
pub async fn choices(state: &AppState, actor: &Actor) -> AppResult<Vec<(OrganizationId, String)>> {
    let mut all = organizations::list(&state.db).await?;
    all.retain(|(id, _)| actor.authority.manages_organization(*id));
    Ok(all)
}

/// A new organization: only an administrator who manages every organization creates one
/// (a new organization is in nobody else's reach).
pub async fn create(state: &AppState, actor: &Actor, name: &str) -> AppResult<OrganizationId> {
    actor.require_global()?;
    let (name, key) = parse_name(name)?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    let id = organizations::insert(&mut tx, &name, &key, now)
        .await
        .map_err(name_taken)?;
    audit::record(
        &mut tx,
        &actor.entry(AuditAction::OrganizationCreated, id, &name, None, now),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn rename(
    state: &AppState,
    actor: &Actor,
    id: OrganizationId,
    name: &str,
) -> AppResult<()> {
    actor.require_organization(id)?;
    let (name, key) = parse_name(name)?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    if !organizations::rename(&mut tx, id, &name, &key, now)
        .await
        .map_err(name_taken)?
    {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &actor.entry(AuditAction::OrganizationRenamed, id, &name, None, now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Enables or disables an organization. The one the administrator is working in cannot be
/// disabled, so nobody cuts the branch they sit on.
pub async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    current: OrganizationId,
    id: OrganizationId,
    enabled: bool,
) -> AppResult<OrganizationRow> {
    actor.require_organization(id)?;
    let org = organizations::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !enabled && id == current {
        return Err(AppError::Conflict(
            "You cannot disable the organization you are working in. Switch to another one first."
                .into(),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    organizations::set_enabled(&mut tx, id, enabled, now).await?;
    let action = if enabled {
        AuditAction::OrganizationEnabled
    } else {
        AuditAction::OrganizationDisabled
    };
    audit::record(&mut tx, &actor.entry(action, id, &org.name, None, now)).await?;
    tx.commit().await?;
    Ok(org)
}

/// Gives an organization global access (its administrators manage every organization),
/// or takes it away. Only for those who have it; the last global organization keeps it, so
/// someone can always manage everything.
pub async fn set_global(
    state: &AppState,
    actor: &Actor,
    id: OrganizationId,
    global: bool,
) -> AppResult<OrganizationRow> {
    actor.require_global()?;
    let org = organizations::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    organizations::set_global(&mut tx, id, global, now).await?;
    if !global && organizations::count_global(&mut tx).await? == 0 {
        return Err(AppError::Conflict(format!(
            "{} is the last organization with global access: it keeps it.",
            org.name
        )));
    }
    if org.is_global != global {
        let action = if global {
            AuditAction::OrganizationGlobalGranted
        } else {
            AuditAction::OrganizationGlobalRevoked
        };
        audit::record(&mut tx, &actor.entry(action, id, &org.name, None, now)).await?;
    }
    tx.commit().await?;
    Ok(org)
}

/// Deletes an organization that has no members and no records.
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    id: OrganizationId,
) -> AppResult<OrganizationRow> {
    actor.require_organization(id)?;
    let org = organizations::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    let deps = organizations::dependents(&mut tx, id).await?;
    if !deps.is_empty() {
        let what = deps
            .iter()
            .map(|(one, many, n)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(AppError::Conflict(format!(
            "Organization {} cannot be deleted: it still has {what}.",
            org.name
        )));
    }
    organizations::delete(&mut tx, id).await.map_err(|e| {
        if matches!(&e, sqlx::Error::Database(d) if d.is_foreign_key_violation()) {
            AppError::Conflict(format!(
                "Organization {} cannot be deleted: it still has records.",
                org.name
            ))
        } else {
            e.into()
        }
    })?;
    audit::record(
        &mut tx,
        &actor.entry(AuditAction::OrganizationDeleted, id, &org.name, None, now),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// Every organization a user belongs to, by name.
pub async fn memberships(state: &AppState, user: UserId) -> AppResult<Vec<MembershipRow>> {
    Ok(organizations::of_user(&state.db, user).await?)
}

/// The enabled organizations a user can work in: (id, name).
pub async fn workable(state: &AppState, user: UserId) -> AppResult<Vec<(OrganizationId, String)>> {
    Ok(workable_of(&organizations::of_user(&state.db, user).await?))
}

/// The organizations of a membership list the user may work in now: (id, name).
pub fn workable_of(memberships: &[MembershipRow]) -> Vec<(OrganizationId, String)> {
    memberships
        .iter()
        .filter(|m| m.enabled)
        .map(|m| (m.id, m.name.clone()))
        .collect()
}

/// The organization a session starts in: the last one used if still workable, else the
/// first by name. None when the user has no enabled organization.
pub async fn initial(state: &AppState, user: UserId) -> AppResult<Option<OrganizationId>> {
    initial_among(state, user, &workable(state, user).await?).await
}

/// `initial`, for a caller that has the user's workable organizations already.
pub async fn initial_among(
    state: &AppState,
    user: UserId,
    workable: &[(OrganizationId, String)],
) -> AppResult<Option<OrganizationId>> {
    let last = organizations::last_used(&state.db, user).await?;
    Ok(last
        .filter(|l| workable.iter().any(|(id, _)| id == l))
        .or_else(|| workable.first().map(|(id, _)| *id)))
}

/// Switches the working organization; refused for one the user cannot work in, whatever
/// the browser sent.
pub async fn switch(state: &AppState, user: UserId, to: OrganizationId) -> AppResult<String> {
    let orgs = workable(state, user).await?;
    let Some((_, name)) = orgs.into_iter().find(|(id, _)| *id == to) else {
        return Err(AppError::Forbidden(
            "You do not belong to this organization.".into(),
        ));
    };
    let mut tx = state.begin().await?;
    organizations::remember_last_used(&mut tx, user, to).await?;
    tx.commit().await?;
    Ok(name)
}

/// The organization a user works in when no session says otherwise (the API with a key
/// that names none): the last one used if still workable, else the first by name.
pub async fn current_organization(
    state: &AppState,
    user: UserId,
) -> AppResult<Option<OrganizationRow>> {
    match initial(state, user).await? {
        Some(id) => Ok(organizations::find(&state.db, id).await?),
        None => Ok(None),
    }
}
