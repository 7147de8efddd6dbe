//! The first administrator, created when `serve` finds no users at all.

use crate::access::Actor;
use crate::domain::{Email, PlainPassword, Profile, Username};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;
use crate::users::{self, NewUserInput};

pub struct BootstrapAdmin {
    pub username: String,
    pub email: String,
    /// None: a random password is generated and reported once.
    pub password: Option<String>,
}

pub struct Created {
    pub username: String,
    /// Set when the password was generated here and must be shown once.
    pub generated_password: Option<PlainPassword>,
}

/// Creates the administrator if, and only if, the users table is empty. Two processes
/// starting at once on one PostgreSQL race on the unique username: the loser sees a
/// validation error for a user that now exists, and reports nothing.
pub async fn ensure_admin(state: &AppState, spec: &BootstrapAdmin) -> AppResult<Option<Created>> {
    if store::users::count(&state.db).await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &spec.password {
        Some(p) => (PlainPassword::new(p.clone()), None),
        None => {
            let g = state.settings.security.password.suggest();
            (g.clone(), Some(g))
        }
    };
    let input = NewUserInput {
        profile: Profile::minimal(Username::parse(&spec.username)?, Email::parse(&spec.email)?),
        password,
        enabled: true,
        roles: vec![users::ADMIN_ROLE_ID, users::USER_ROLE_ID],
        organizations: Vec::new(),
    };
    match users::create(state, &Actor::system("bootstrap"), input).await {
        Ok(_) => Ok(Some(Created {
            username: spec.username.trim().to_owned(),
            generated_password: generated,
        })),
        Err(AppError::Validation(_)) if store::users::count(&state.db).await? > 0 => Ok(None),
        Err(e) => Err(e),
    }
}
