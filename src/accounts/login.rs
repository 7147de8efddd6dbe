//! Signing in: password verification, the failure counter and lock-out.

use crate::domain::{AuthStatus, PlainPassword};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{audit, users, users::UserRow};

/// Why a sign-in did not succeed. Only `BadCredentials` is possible before the password
/// has been verified, so the other variants never reveal anything to someone who does not
/// know the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    BadCredentials,
    Disabled,
    NoOrganization,
    Locked,
    PasswordReset,
}

impl LoginRefusal {
    pub fn message(self) -> &'static str {
        match self {
            // OroPlatform's one generic message for every credential failure.
            Self::BadCredentials => "Your login was unsuccessful",
            Self::Disabled => "Your account is disabled. Please contact your administrator.",
            Self::NoOrganization => {
                "None of your organizations is enabled. Please contact your administrator."
            }
            Self::Locked => {
                "Your account is locked after too many failed login attempts. \
                 Please contact your administrator to activate it."
            }
            Self::PasswordReset => {
                "Your password was reset. Please use the link in the email we sent you \
                 to set a new password."
            }
        }
    }
}

pub async fn login(
    state: &AppState,
    login: &str,
    password: &PlainPassword,
    ip: Option<&str>,
) -> AppResult<Result<UserRow, LoginRefusal>> {
    let key = login.trim().to_lowercase();
    let user = if key.is_empty() {
        None
    } else {
        users::find_by_login(&state.db, &key).await?
    };
    // Always one argon2 verification, real or dummy, so timing does not tell whether the
    // user exists.
    let ok = state
        .hashing
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await?;
    let now = state.clock.now();
    let Some(user) = user else {
        return Ok(Err(LoginRefusal::BadCredentials));
    };
    if !ok {
        let lock_at =
            i32::try_from(state.settings.security.max_failed_login_attempts).unwrap_or(i32::MAX);
        let after = users::record_failed_login(&state.db, user.id, lock_at, now).await?;
        let locked_now =
            matches!(&after, Some((_, s)) if s == "locked") && user.auth_status == "active";
        audit::record_alone(
            &state.db,
            &audit::Entry {
                actor_id: None,
                actor_name: None,
                action: if locked_now {
                    "user.locked"
                } else {
                    "login.failed"
                },
                target_type: "user",
                target_id: Some(user.id),
                target_label: Some(&user.username),
                details: after
                    .map(|(n, _)| format!("{{\"failed_login_count\":{n}}}"))
                    .as_deref(),
                ip,
                at: now,
            },
        )
        .await?;
        return Ok(Err(LoginRefusal::BadCredentials));
    }
    if let Err(refusal) = standing(&user) {
        return Ok(Err(refusal));
    }
    if super::organizations::initial(state, user.id)
        .await?
        .is_none()
    {
        return Ok(Err(LoginRefusal::NoOrganization));
    }
    users::record_login(&state.db, user.id, now).await?;

    Ok(Ok(user))
}

/// Whether a user whose credentials were verified may come in now. Shared by the sign-in
/// page and every API credential, so a disabled, locked or reset user is refused alike.
pub fn standing(user: &UserRow) -> Result<(), LoginRefusal> {
    if !user.enabled {
        return Err(LoginRefusal::Disabled);
    }
    match AuthStatus::parse(&user.auth_status) {
        Some(AuthStatus::Active) => Ok(()),
        Some(AuthStatus::Locked) => Err(LoginRefusal::Locked),
        Some(AuthStatus::PasswordReset) | None => Err(LoginRefusal::PasswordReset),
    }
}

/// Records which user a freshly signed-in session belongs to.
pub async fn register_session(state: &AppState, user_id: i64, session_id: &str) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    crate::store::lifecycle::register_session(&mut tx, session_id, user_id, state.clock.now())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets which user owned sessions that have expired.
pub async fn prune_sessions(state: &AppState) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    crate::store::lifecycle::prune_session_map(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
