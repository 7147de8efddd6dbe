//! Signing in: password verification, the failure counter and lock-out.

use crate::access::throttle::{Attempt, Gate};
use crate::domain::audit::AuditAction;
use crate::domain::{AuthStatus, PlainPassword, UserId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{audit, users, users::UserRow};

/// Why a sign-in did not succeed, for the log (and later the login attempts). People are
/// told the same for every reason: a locked, disabled or reset account is refused before its
/// password is looked at, so the answer cannot say whether a guess was right, and it must
/// not say the account exists either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    BadCredentials,
    Disabled,
    NoOrganization,
    Locked,
    PasswordReset,
}

/// The one answer to a refused sign-in (OroPlatform's words).
pub const REFUSED: &str = "Your login was unsuccessful";

impl LoginRefusal {
    /// What an API client is told once its credentials have been verified (a WSSE digest
    /// made with the user's key): then the reason gives nothing away.
    pub fn message(self) -> &'static str {
        match self {
            Self::BadCredentials => REFUSED,
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

    pub fn reason(self) -> &'static str {
        match self {
            Self::BadCredentials => "bad credentials",
            Self::Disabled => "disabled",
            Self::NoOrganization => "no enabled organization",
            Self::Locked => "locked",
            Self::PasswordReset => "password reset",
        }
    }
}

/// Signs a user in from the form. The order matters: the throttle first (nothing is
/// verified for a throttled address or account); then whether the account may come in at
/// all, since a locked, disabled or reset account is refused without its password being
/// checked (one argon2 verification runs all the same, against a dummy hash, so every
/// refusal takes as long); only then the password.
pub async fn login(
    state: &AppState,
    login: &str,
    password: &PlainPassword,
    ip: &str,
) -> AppResult<Result<super::UserSummary, LoginRefusal>> {
    let key = login.trim().to_lowercase();
    let user = if key.is_empty() {
        None
    } else {
        users::find_by_login(&state.db, &key).await?
    };
    let account = match &user {
        Some(u) => format!("user:{}", u.id),
        None => format!("name:{key}"),
    };
    let attempt = Attempt::new(Gate::SignIn, ip, &account);
    attempt.check(state).await?;
    let standing = match &user {
        None => Err(LoginRefusal::BadCredentials),
        Some(u) => match standing(u.enabled, u.auth_status) {
            Ok(()) if crate::organizations::initial(state, u.id).await?.is_none() => {
                Err(LoginRefusal::NoOrganization)
            }
            other => other,
        },
    };
    let checked_hash = match (&user, standing) {
        (Some(u), Ok(())) => Some(u.password_hash.as_str()),
        _ => None,
    };
    let ok = state.hashing.verify(password, checked_hash).await?;
    let now = state.clock.now();
    match (user, standing) {
        (Some(user), Ok(())) if ok => {
            users::record_login(&state.db, user.id, now).await?;
            Ok(Ok(user.into()))
        }
        (Some(user), Ok(())) => {
            attempt.count(state).await?;
            record_failure(state, &user, ip, now).await?;
            Ok(Err(LoginRefusal::BadCredentials))
        }
        (_, refusal) => {
            attempt.count(state).await?;
            let refusal = refusal.err().unwrap_or(LoginRefusal::BadCredentials);
            tracing::info!(ip, reason = refusal.reason(), "sign-in refused");
            Ok(Err(refusal))
        }
    }
}

/// A wrong password for an account that may sign in: the counter rises and, at the limit,
/// the account is locked. The statement that locks it is the only one that sees the status
/// change (it updates only active accounts), so one lock is audited once however many
/// failures arrive together.
async fn record_failure(state: &AppState, user: &UserRow, ip: &str, now: i64) -> AppResult<()> {
    let lock_at =
        i32::try_from(state.settings.security.max_failed_login_attempts).unwrap_or(i32::MAX);
    // None: a failure that raced the lock (the account is no longer active); the lock
    // was recorded by the statement that made it.
    let Some((count, status)) =
        users::record_failed_login(&state.db, user.id, lock_at, now).await?
    else {
        return Ok(());
    };
    let locked_now = status == AuthStatus::Locked;
    audit::record_alone(
        &state.db,
        &audit::Entry {
            actor_id: None,
            actor_name: None,
            action: if locked_now {
                AuditAction::UserLocked
            } else {
                AuditAction::LoginFailed
            },
            target_id: Some(user.id.get()),
            target_label: Some(&user.username),
            details: Some(&format!("{{\"failed_login_count\":{count}}}")),
            ip: Some(ip),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// Whether an account may act now: the one standing check, shared by the sign-in page,
/// every signed-in request, WSSE and Bearer tokens, so a disabled, locked or reset user is
/// refused alike everywhere.
pub fn standing(enabled: bool, status: AuthStatus) -> Result<(), LoginRefusal> {
    if !enabled {
        return Err(LoginRefusal::Disabled);
    }
    match status {
        AuthStatus::Active => Ok(()),
        AuthStatus::Locked => Err(LoginRefusal::Locked),
        AuthStatus::PasswordReset => Err(LoginRefusal::PasswordReset),
    }
}

/// Records which user a freshly signed-in session belongs to.
pub async fn register_session(
    state: &AppState,
    user_id: UserId,
    session_id: &str,
) -> AppResult<()> {
    let mut tx = state.begin().await?;
    crate::store::users::lifecycle::register_session(
        &mut tx,
        session_id,
        user_id,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets which user owned sessions that have expired.
pub async fn prune_sessions(state: &AppState) -> AppResult<()> {
    crate::store::sessions::delete_expired(&state.db).await?;
    let mut tx = state.begin().await?;
    crate::store::users::lifecycle::prune_session_map(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
