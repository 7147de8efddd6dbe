//! Enable, disable, activate and delete: each one use case in one transaction with its
//! audit entries, shared by the user page, the row and mass actions and the API.

use super::UserSummary;
use crate::access::Actor;
use crate::access::authority::{managed_user, restrict};
use crate::domain::UserId;
use crate::domain::query::UserFilter;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::users;
use crate::store::users::lifecycle::{self};

/// What a (mass) enable/disable did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MassOutcome {
    /// Users whose state changed (those already in the state are not counted, as in Oro).
    pub changed: u64,
    /// The acting administrator was in the selection and was left alone.
    pub skipped_self: bool,
}

/// Enables or disables every user in `selection`. The acting user is skipped when
/// disabling (nobody locks themselves out by a mass action), and the change is refused as
/// a whole if it would leave no enabled administrator.
pub async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    selection: &UserFilter,
    enabled: bool,
) -> AppResult<MassOutcome> {
    actor.require_admin()?;
    // "All matching" and a list of ids alike reach only the users this actor manages.
    let selection = &restrict(actor, selection.clone());
    let meta = actor.meta(state.clock.now());
    let mut tx = state.begin().await?;
    let skip = if enabled { None } else { actor.user_id };
    let skipped_self = match skip {
        Some(me) => lifecycle::selection_contains(&mut tx, selection, me).await?,
        None => false,
    };
    let changed = lifecycle::set_enabled(&mut tx, selection, enabled, skip, &meta).await?;
    if !enabled && lifecycle::count_admins(&mut tx, true).await? == 0 {
        return Err(AppError::Conflict(
            "The last enabled administrator cannot be disabled.".into(),
        ));
    }
    tx.commit().await?;
    Ok(MassOutcome {
        changed,
        skipped_self,
    })
}

/// One user, from their page or the row menu: refusing oneself with a reason instead of
/// skipping silently.
pub async fn set_user_enabled(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    enabled: bool,
) -> AppResult<UserSummary> {
    actor.require_admin()?;
    let user: UserSummary = managed_user(state, actor, id).await?.user.into();
    if !enabled && actor.user_id == Some(id) {
        return Err(AppError::Forbidden(
            "You cannot disable your own account.".into(),
        ));
    }
    set_enabled(state, actor, &UserFilter::only(vec![id]), enabled).await?;
    Ok(user)
}

/// Locked → Active (the "Activate" button).
pub async fn activate(state: &AppState, actor: &Actor, id: UserId) -> AppResult<UserSummary> {
    actor.require_admin()?;
    let user: UserSummary = managed_user(state, actor, id).await?.user.into();
    let meta = actor.meta(state.clock.now());
    let mut tx = state.begin().await?;
    if !lifecycle::activate(&mut tx, id, &meta).await? {
        return Err(AppError::Conflict(format!(
            "User {} is not locked.",
            user.username
        )));
    }
    tx.commit().await?;
    Ok(user)
}

/// Why a user cannot be deleted now, if they cannot: for the refusal and for disabling the
/// Delete button with the reason.
pub async fn delete_blocker(
    state: &AppState,
    actor: &Actor,
    id: UserId,
) -> AppResult<Option<String>> {
    actor.require_admin()?;
    managed_user(state, actor, id).await?;
    let mut tx = state.begin().await?;
    let reason = blocker(&mut tx, actor, id).await?;
    drop(tx);
    Ok(reason)
}

async fn blocker(
    tx: &mut crate::store::Tx,
    actor: &Actor,
    id: UserId,
) -> AppResult<Option<String>> {
    let forbidden = |r: &str| {
        Ok(Some(format!(
            "The delete operation is forbidden. Reason: {r}"
        )))
    };
    if actor.user_id == Some(id) {
        return forbidden("you cannot delete your own account.");
    }
    let owned = lifecycle::owned_records(tx, id).await?;
    if !owned.is_empty() {
        let what = owned
            .iter()
            .map(|(one, many, n)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect::<Vec<_>>()
            .join(", ");
        return forbidden(&format!(
            "the user has records assigned to them ({what}). Delete or reassign them first."
        ));
    }
    let target_is_admin = users::role_ids_tx(tx, id)
        .await?
        .contains(&users::ADMIN_ROLE_ID);
    if target_is_admin && lifecycle::count_admins(tx, false).await? <= 1 {
        return forbidden("the last administrator cannot be deleted.");
    }
    Ok(None)
}

pub async fn delete(state: &AppState, actor: &Actor, id: UserId) -> AppResult<UserSummary> {
    actor.require_admin()?;
    let user: UserSummary = managed_user(state, actor, id).await?.user.into();
    let meta = actor.meta(state.clock.now());
    let mut tx = state.begin().await?;
    if let Some(reason) = blocker(&mut tx, actor, id).await? {
        return Err(AppError::Conflict(reason));
    }
    let deleted = lifecycle::delete(&mut tx, id, &meta).await.map_err(|e| {
        // A record assigned to the user between the check and the delete trips the
        // foreign key: the same refusal, and nothing is deleted.
        if matches!(&e, sqlx::Error::Database(d) if d.is_foreign_key_violation()) {
            AppError::Conflict(
                "The delete operation is forbidden. Reason: the user has records assigned to them."
                    .into(),
            )
        } else {
            e.into()
        }
    })?;
    if !deleted {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(user)
}
