//! Which organization a user acts in.

use crate::domain::UserId;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::organizations::{self, OrganizationRow};

/// The organization a user currently works in: it scopes their API key and what the API
/// shows them. For now the user's first organization by id; an organization switcher
/// (a chosen organization remembered per user) replaces the body of this one function.
pub async fn current_organization(
    state: &AppState,
    user: UserId,
) -> AppResult<Option<OrganizationRow>> {
    Ok(organizations::first_of_user(&state.db, user).await?)
}
