//! Saved grid views: an administrator's named filters and sort, one of them the default.

use crate::access::Actor;
use crate::domain::{FieldError, UserId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;
use crate::store::users::{grid_context, views};
use crate::users::grid;

pub use crate::store::users::grid_context::GridContext;
pub use crate::store::users::views::ViewRow;

const MAX_NAME: usize = 100;

fn owner(actor: &Actor) -> AppResult<UserId> {
    actor.user_id.ok_or(AppError::Unauthorized)
}

/// What the grid shows beside its rows: the actor's saved views, every organization and
/// the actor's latest exports, in one read.
pub async fn grid_context(state: &AppState, actor: &Actor) -> AppResult<GridContext> {
    let owner = owner(actor)?;
    let mut context = grid_context::load(&state.db, owner, crate::exports::RECENT).await?;
    // The organization filter offers only what the actor manages.
    context
        .organizations
        .retain(|(id, _)| actor.authority.manages_organization(*id));
    Ok(context)
}

fn parse_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "Give the view a name.").into());
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            format!("A view name has at most {MAX_NAME} characters."),
        )
        .into());
    }
    Ok(name.to_owned())
}

fn name_taken(e: sqlx::Error) -> AppError {
    if store::is_unique_violation(&e) {
        FieldError::new("name", "You already have a view with this name.").into()
    } else {
        e.into()
    }
}

/// Saves the grid state `query` (validated by parsing it) under `name`; returns the new
/// view's id and the state as stored (canonical: every value percent-encoded).
pub async fn save(
    state: &AppState,
    actor: &Actor,
    name: &str,
    query: &str,
) -> AppResult<(i64, String)> {
    // Stored in canonical form, and only if it is a valid grid state: nothing is stored
    // for a query the grid would refuse.
    let canonical = grid::parse_query_string(query)?.view_query();
    let name = parse_name(name)?;
    let mut tx = state.begin().await?;
    let id = views::insert(&mut tx, owner(actor)?, &name, &canonical, state.clock.now())
        .await
        .map_err(name_taken)?;
    tx.commit().await?;
    Ok((id, canonical))
}

pub async fn rename(state: &AppState, actor: &Actor, id: i64, name: &str) -> AppResult<()> {
    let name = parse_name(name)?;
    let mut tx = state.begin().await?;
    if !views::rename(&mut tx, owner(actor)?, id, &name)
        .await
        .map_err(name_taken)?
    {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub async fn delete(state: &AppState, actor: &Actor, id: i64) -> AppResult<()> {
    let mut tx = state.begin().await?;
    if !views::delete(&mut tx, owner(actor)?, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub async fn set_default(state: &AppState, actor: &Actor, id: Option<i64>) -> AppResult<()> {
    let mut tx = state.begin().await?;
    if !views::set_default(&mut tx, owner(actor)?, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}
