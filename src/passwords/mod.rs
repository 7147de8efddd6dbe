//! Password resets: an administrator's "Reset Password", the self-service "Forgot your
//! password?" request, completing a reset from the emailed link, and the email that tells a
//! user an administrator changed their password.
//!
//! A reset token is 32 random bytes from the OS, URL-safe base64 behind a `ghr_` prefix (so a
//! leaked one is recognisable in logs and scanners). Only its SHA-256 is stored: it is
//! high-entropy, so a fast hash suffices and lookup by hash is as good as a constant-time
//! comparison.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::access::Actor;
use crate::access::authority::{managed_user, restrict};
use crate::access::throttle::{Attempt, Gate};
use crate::domain::audit::AuditAction;
use crate::domain::{AuthStatus, FieldError, PlainPassword, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::{self, templates};
use crate::state::AppState;
use crate::store::passwords::{self as password_resets, ResetUser};
use crate::store::{Tx, audit, users};

pub const TOKEN_PREFIX: &str = "ghr_";
/// Longer than any token we issue; anything longer is not worth hashing.
const MAX_TOKEN_LEN: usize = 100;

/// A reset link that cannot be used: unknown, already used, expired, or replaced by a newer
/// one. The person is told the same for all four; none says anything to someone guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidResetLink;

/// A fresh token and the hash that is stored for it.
fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn plausible(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX) && token.len() <= MAX_TOKEN_LEN
}

/// An administrator's "Reset Password": the user gets a link, cannot sign in until they
/// use it (status "Password reset"), and every live session of theirs ends. One
/// transaction with the token, the audit entry and the email. Returns the user, whose email
/// the confirmation names.
pub async fn request_reset(state: &AppState, actor: &Actor, id: UserId) -> AppResult<ResetUser> {
    actor.require_admin()?;
    managed_user(state, actor, id).await?;
    if actor.user_id == Some(id) {
        return Err(AppError::Forbidden(
            "You cannot reset your own password.".into(),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    let user = issue(
        state,
        &mut tx,
        actor,
        id,
        Issue::ByAdmin {
            only_enabled: false,
        },
        now,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(user)
}

/// Users per round of statements in a mass reset: bounds the rendered emails held in
/// memory and the size of each statement, however many users are selected.
const MASS_CHUNK: usize = 500;

/// The mass "Reset Password": the same for each of `ids`, in one transaction, skipping the
/// acting administrator, disabled users and ids that do not exist (as OroPlatform does),
/// and users outside the actor's reach.
/// Set-based, a few statements per `MASS_CHUNK` users (one round trip per statement, not
/// per user, is what lets 10,000 resets commit in a second or two). Returns the users
/// reset, that is the emails sent, by id.
pub async fn request_reset_many(
    state: &AppState,
    actor: &Actor,
    ids: &[UserId],
) -> AppResult<Vec<ResetUser>> {
    actor.require_admin()?;
    let reachable = restrict(actor, crate::domain::query::UserFilter::only(ids.to_vec()));
    let ids = users::ids_matching(&state.db, &reachable).await?;
    reset_reachable(state, actor, &ids).await
}

/// `request_reset_many` for ids already narrowed to the actor's reach.
async fn reset_reachable(
    state: &AppState,
    actor: &Actor,
    ids: &[UserId],
) -> AppResult<Vec<ResetUser>> {
    let now = state.clock.now();
    let expires_at = expiry(state, now);
    let ids: Vec<UserId> = ids
        .iter()
        .copied()
        .filter(|&id| actor.user_id != Some(id))
        .collect();
    let meta = actor.meta(now);
    let details = audit_details(true);
    let mut tx = state.begin().await?;
    let mut done = Vec::new();
    for chunk in ids.chunks(MASS_CHUNK) {
        let users = password_resets::begin_many(&mut tx, chunk, now).await?;
        let reset: Vec<UserId> = users.iter().map(|u| u.id).collect();
        password_resets::revoke_unused_many(&mut tx, &reset).await?;
        let mut tokens = Vec::with_capacity(users.len());
        let mut emails = Vec::with_capacity(users.len());
        for user in &users {
            let (hash, email) = link_email(state, user, expires_at, true)?;
            tokens.push((user.id, hash));
            emails.push(email);
        }
        password_resets::insert_many(&mut tx, &tokens, now, expires_at).await?;
        audit::record_for_users(
            &mut tx,
            &reset,
            AuditAction::PasswordResetRequested,
            Some(&details),
            &meta,
        )
        .await?;
        mail::enqueue_many(&mut tx, &emails, now).await?;
        done.extend(users);
    }
    tx.commit().await?;
    Ok(done)
}

/// "Forgot your password?": emails a reset link to the enabled account named by `login`
/// (username or email, any case). It changes nothing else: a request anyone can make must
/// not lock anyone out or sign them out. The answer is the same whether or not the account
/// exists or a link was sent (the reasons only go to the log). Requests are limited per
/// client address and per account named (`throttle::Gate::ResetRequest`, counted alike
/// for names that exist and names that do not): past a limit the answer is 429.
pub async fn forgot_password(state: &AppState, login: &str, ip: &str) -> AppResult<()> {
    let key = login.trim().to_lowercase();
    if key.is_empty() {
        return Err(FieldError::new("username", "This value should not be blank.").into());
    }
    let now = state.clock.now();
    let user = users::find_by_login(&state.db, &key).await?;
    let account = match &user {
        Some(u) => format!("user:{}", u.id),
        None => format!("name:{key}"),
    };
    let attempt = Attempt::new(Gate::ResetRequest, ip, &account);
    attempt.check(state).await?;
    attempt.count(state).await?;
    let user = match user {
        None => Err("no such account"),
        Some(u) if !u.enabled => Err("account disabled"),
        Some(u) => Ok(u),
    };
    let user = match user {
        Ok(u) => u,
        Err(reason) => {
            tracing::info!(ip, reason, "password reset link not sent");
            return Ok(());
        }
    };
    let actor = Actor {
        user_id: None,
        name: "self-service".into(),
        ip: Some(ip.to_owned()),
        authority: crate::access::Authority::User,
    };
    let mut tx = state.begin().await?;
    issue(state, &mut tx, &actor, user.id, Issue::SelfService, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The user a reset link is for, if it can still be used; for showing the form.
pub async fn reset_link_user(
    state: &AppState,
    token: &str,
) -> AppResult<Result<ResetUser, InvalidResetLink>> {
    if !plausible(token) {
        return Ok(Err(InvalidResetLink));
    }
    let found =
        password_resets::live_token_user(&state.db, &token_hash(token), state.clock.now()).await?;
    Ok(found.ok_or(InvalidResetLink))
}

/// Sets a new password from a reset link: the policy is checked, then in one transaction
/// the link is used up (exactly once, even when two requests race), the password set, the
/// user made Active with the failure counter cleared, other links and live sessions ended,
/// and the audit entry written. An unusable link changes nothing.
pub async fn complete_reset(
    state: &AppState,
    token: &str,
    new_password: &PlainPassword,
    ip: Option<&str>,
) -> AppResult<Result<ResetUser, InvalidResetLink>> {
    if let Err(invalid) = reset_link_user(state, token).await? {
        return Ok(Err(invalid));
    }
    state
        .settings
        .security
        .password
        .check("password", new_password)?;
    // Hashing takes tens of milliseconds: done before the transaction, so SQLite's write
    // lock is not held meanwhile.
    let phc = state.hashing.hash(new_password).await?;
    let now = state.clock.now();
    let hash = token_hash(token);

    let mut tx = state.begin().await?;
    let Some(user_id) = password_resets::consume(&mut tx, &hash, now).await? else {
        return Ok(Err(InvalidResetLink));
    };
    let Some(user) = password_resets::set_password(&mut tx, user_id, &phc, now).await? else {
        return Ok(Err(InvalidResetLink));
    };
    password_resets::revoke_unused(&mut tx, user_id).await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: Some(user.id),
            actor_name: Some(&user.username),
            action: AuditAction::PasswordResetCompleted,
            target_id: Some(user.id.get()),
            target_label: Some(&user.username),
            details: None,
            ip,
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(user))
}

/// Queues the "your password was changed by an administrator" email in the caller's
/// transaction (the one that changes the password). Call `state.outbox.wake()` after the
/// commit for immediate delivery.
pub async fn notify_password_changed_by_admin(
    state: &AppState,
    tx: &mut Tx,
    to: &str,
    username: &str,
    actor: &Actor,
) -> AppResult<()> {
    let now = state.clock.now();
    let email =
        templates::password_changed_by_admin(&state.settings, to, username, &actor.name, now)?;
    mail::enqueue(tx, &email, now).await?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Issue {
    /// Blocks sign-in and ends sessions; `only_enabled` skips disabled users.
    ByAdmin { only_enabled: bool },
    /// Only sends the link.
    SelfService,
}

/// The machinery every reset request shares, inside the caller's transaction: the user row
/// first (which also serialises concurrent requests for one user), then the older links
/// revoked, the new token, the audit entry and the email. None when the user does not exist
/// (or is disabled where that excludes them).
async fn issue(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    id: UserId,
    how: Issue,
    now: i64,
) -> AppResult<Option<ResetUser>> {
    let (lock_out, only_enabled) = match how {
        Issue::ByAdmin { only_enabled } => (true, only_enabled),
        Issue::SelfService => (false, true),
    };
    let Some(user) = password_resets::begin(tx, id, lock_out, only_enabled, now).await? else {
        return Ok(None);
    };
    password_resets::revoke_unused(tx, id).await?;
    let expires_at = expiry(state, now);
    let (hash, email) = link_email(state, &user, expires_at, lock_out)?;
    password_resets::insert(tx, id, &hash, now, expires_at).await?;
    let details = audit_details(lock_out);
    audit::record(
        tx,
        &actor.entry(
            AuditAction::PasswordResetRequested,
            id,
            &user.username,
            Some(&details),
            now,
        ),
    )
    .await?;
    mail::enqueue(tx, &email, now).await?;
    Ok(Some(user))
}

/// When a link issued `now` stops working.
fn expiry(state: &AppState, now: i64) -> i64 {
    let ttl = i64::try_from(state.settings.security.password_reset_ttl).unwrap_or(i64::MAX);
    now.saturating_add(ttl)
}

fn audit_details(by_admin: bool) -> String {
    serde_json::json!({ "self_service": !by_admin }).to_string()
}

/// A new link for `user`: the hash to store, and the email that carries the token (which
/// exists nowhere else).
fn link_email(
    state: &AppState,
    user: &ResetUser,
    expires_at: i64,
    by_admin: bool,
) -> AppResult<(String, mail::Email)> {
    let (token, hash) = new_token();
    let email = templates::reset_password(
        &state.settings,
        &user.email,
        &user.username,
        &token,
        expires_at,
        by_admin,
    )?;
    Ok((hash, email))
}

/// An administrator's "Change Password": only for an enabled user in status Active (a
/// locked or reset user is helped with Activate or Reset Password). The new hash replaces
/// the old, every session of the user ends, and the user is told by email (without the
/// password) — all in one transaction.
pub async fn change_by_admin(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    new_password: &PlainPassword,
) -> AppResult<ResetUser> {
    actor.require_admin()?;
    let user = managed_user(state, actor, id).await?.user;
    if !user.enabled || user.auth_status != AuthStatus::Active {
        return Err(AppError::Conflict(format!(
            "The password of {} cannot be changed now: the user is disabled, locked or waiting for a password reset.",
            user.username
        )));
    }
    state
        .settings
        .security
        .password
        .check("password", new_password)?;
    let hash = state.hashing.hash(new_password).await?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    let changed = password_resets::set_password(&mut tx, id, &hash, now)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::store::users::lifecycle::end_sessions_of(&mut tx, id, None).await?;
    record_change(&mut tx, actor, id, &changed.username, now).await?;
    notify_password_changed_by_admin(state, &mut tx, &changed.email, &changed.username, actor)
        .await?;
    tx.commit().await?;
    Ok(changed)
}

/// A user changing their own password ("My User"): the current password is asked first.
/// Every other session of theirs ends; `this_session` stays signed in. Returns the new
/// session epoch for that session.
pub async fn change_own(
    state: &AppState,
    actor: &Actor,
    current: &PlainPassword,
    new_password: &PlainPassword,
    this_session: Option<&str>,
) -> AppResult<i64> {
    let me = actor.user_id.ok_or(AppError::Unauthorized)?;
    let user = users::find(&state.db, me)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    if !state
        .hashing
        .verify(current, Some(&user.password_hash))
        .await?
    {
        errors.push(FieldError::new(
            "current_password",
            "The current password is not correct.",
        ));
    }
    if let Err(e) = state
        .settings
        .security
        .password
        .check("password", new_password)
    {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = state.hashing.hash(new_password).await?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    password_resets::set_password(&mut tx, user.id, &hash, now)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::store::users::lifecycle::end_sessions_of(&mut tx, user.id, this_session).await?;
    record_change(&mut tx, actor, user.id, &user.username, now).await?;
    tx.commit().await?;
    Ok(user.session_epoch + 1)
}

async fn record_change(
    tx: &mut Tx,
    actor: &Actor,
    id: UserId,
    username: &str,
    now: i64,
) -> AppResult<()> {
    audit::record(
        tx,
        &actor.entry(AuditAction::PasswordChanged, id, username, None, now),
    )
    .await?;
    Ok(())
}

/// "Reset Password" on a grid selection: every matching user except the actor and the
/// disabled ones gets a link. Returns how many emails were queued.
pub async fn reset_selection(
    state: &AppState,
    actor: &Actor,
    selection: &crate::domain::query::UserFilter,
) -> AppResult<usize> {
    actor.require_admin()?;
    let ids = users::ids_matching(&state.db, &restrict(actor, selection.clone())).await?;
    Ok(reset_reachable(state, actor, &ids).await?.len())
}
