//! What the session carries (identity, CSRF token, flash messages) and the extractors that
//! read it. `CurrentUser` reloads the user on every request, so disabling, locking or a
//! password change ends live sessions at once (through `session_epoch`).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use rand::RngCore;
use tower_sessions::Session;

use crate::access::{Actor, Authority, authority};
use crate::domain::{OrganizationId, UserId};
use crate::error::AppError;
use crate::organizations;
use crate::organizations::MembershipRow;
use crate::state::AppState;
use crate::users::{self, UserSummary};

const UID: &str = "uid";
const EPOCH: &str = "epoch";
const CSRF: &str = "_csrf";
const ORG: &str = "org";
/// When this session signed in (the application's clock, Unix seconds): it ends
/// `security.session_lifetime` later however active it is.
const SIGNED_IN_AT: &str = "signed_in_at";
/// When this session last had its expiry pushed forward (Unix seconds).
const SEEN: &str = "seen";
/// How stale `SEEN` may get before a request writes the session again. tower-sessions
/// stores a session (and renews its inactivity expiry) only when it was modified; writing it
/// on every page view would cost one UPDATE per GET, so reads renew it at most this often
/// and an idle timeout is off by at most this much.
const TOUCH_EVERY: i64 = 60;

mod flash;

use flash::take_flashes;
pub use flash::{Flash, FlashKind, flash, flash_outcome};

pub const LOGIN_PATH: &str = "/admin/user/login";

fn internal<E: Into<anyhow::Error>>(e: E) -> AppError {
    AppError::Internal(e.into())
}

/// The CSRF token of this session, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(t) = session.get::<String>(CSRF).await.map_err(internal)? {
        return Ok(t);
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    session.insert(CSRF, &token).await.map_err(internal)?;
    Ok(token)
}

pub async fn stored_csrf_token(session: &Session) -> Option<String> {
    session.get::<String>(CSRF).await.ok().flatten()
}

/// Starts an authenticated session: a new session id (so a planted id is worthless), a new
/// CSRF token, and the user's current epoch.
pub async fn sign_in(
    state: &AppState,
    session: &Session,
    user: &UserSummary,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session.remove_value(CSRF).await.map_err(internal)?;
    session.insert(UID, user.id).await.map_err(internal)?;
    session
        .insert(EPOCH, user.session_epoch)
        .await
        .map_err(internal)?;
    session
        .insert(SIGNED_IN_AT, state.clock.now())
        .await
        .map_err(internal)?;
    // Saving now assigns the new id, which is recorded against the user so that disabling
    // or deleting them can remove this session in the same transaction.
    if let Some(org) = organizations::initial(state, user.id).await? {
        session.insert(ORG, org).await.map_err(internal)?;
    }
    session.save().await.map_err(internal)?;
    if let Some(id) = session.id() {
        crate::users::login::register_session(state, user.id, &id.to_string()).await?;
    }
    Ok(())
}

pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(internal)
}

/// Renews the session's inactivity expiry when it was last renewed over `TOUCH_EVERY` ago.
/// Wall-clock time, not `state.clock`: the expiry it guards is tower-sessions' own, which
/// is computed from the wall clock.
async fn touch(session: &Session) -> Result<(), AppError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let seen = session.get::<i64>(SEEN).await.map_err(internal)?;
    if seen.is_none_or(|t| now - t >= TOUCH_EVERY || t > now) {
        session.insert(SEEN, now).await.map_err(internal)?;
    }
    Ok(())
}

/// The organizations the signed-in user may work in, loaded once per request by
/// `CurrentUser` and reused by `PageCtx`.
#[derive(Debug, Clone)]
struct WorkableOrgs(Vec<(OrganizationId, String)>);

/// The signed-in user, reloaded for this request.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub UserSummary);

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        let state = AppState::from_ref(state);
        let session = Session::from_request_parts(parts, &state)
            .await
            .map_err(IntoResponse::into_response)?;
        match load_user(&state, &session)
            .await
            .map_err(IntoResponse::into_response)?
        {
            Some((user, memberships)) => {
                let workable = organizations::workable_of(&memberships);
                // Every request works in an organization the user may use now; when none
                // is left (all disabled, membership removed) the session ends.
                let org = current_org(&state, &session, user.id, &workable)
                    .await
                    .map_err(IntoResponse::into_response)?;
                let Some(org) = org else {
                    session
                        .flush()
                        .await
                        .map_err(|e| internal(e).into_response())?;
                    return Err(login_redirect(parts));
                };
                touch(&session).await.map_err(IntoResponse::into_response)?;
                parts
                    .extensions
                    .insert(authority::of_user(user.is_admin, &memberships));
                parts.extensions.insert(CurrentOrg(org));
                parts.extensions.insert(WorkableOrgs(workable));
                let cu = CurrentUser(user);
                parts.extensions.insert(cu.clone());
                Ok(cu)
            }
            None => Err(login_redirect(parts)),
        }
    }
}

/// The user of this session if it is still allowed in, with their organizations;
/// otherwise the session's identity is dropped (the user was disabled, locked, reset,
/// deleted, or changed password elsewhere, or the session outlived its lifetime).
async fn load_user(
    state: &AppState,
    session: &Session,
) -> Result<Option<(UserSummary, Vec<MembershipRow>)>, AppError> {
    let Some(uid) = session.get::<UserId>(UID).await.map_err(internal)? else {
        return Ok(None);
    };
    let epoch = session.get::<i64>(EPOCH).await.map_err(internal)?;
    let signed_in_at = session.get::<i64>(SIGNED_IN_AT).await.map_err(internal)?;
    let lifetime = i64::try_from(state.settings.security.session_lifetime).unwrap_or(i64::MAX);
    let fresh = signed_in_at.is_some_and(|t| state.clock.now().saturating_sub(t) < lifetime);
    let found = if fresh {
        users::signed_in(state, uid, epoch).await?
    } else {
        None
    };
    if found.is_none() {
        session.flush().await.map_err(internal)?;
    }
    Ok(found)
}

fn login_redirect(parts: &Parts) -> Response {
    if parts.method == Method::GET {
        // Inside a nested router `parts.uri` has lost its prefix; the original has it.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let target = uri.path_and_query().map_or("/admin", |p| p.as_str());
        let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        Redirect::to(&format!("{LOGIN_PATH}?next={next}")).into_response()
    } else {
        Redirect::to(LOGIN_PATH).into_response()
    }
}

/// A signed-in administrator. Everything under user management requires it.
#[derive(Debug, Clone)]
pub struct Admin(pub UserSummary);

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if parts
            .extensions
            .get::<Authority>()
            .is_some_and(Authority::is_admin)
        {
            Ok(Admin(user))
        } else {
            Err(AppError::Forbidden("Only administrators can manage users.".into()).into_response())
        }
    }
}

/// A signed-in administrator as the rules see them: for authorization and the audit log.
pub struct AdminActor {
    pub user: UserSummary,
    pub actor: Actor,
}

impl<S> FromRequestParts<S> for AdminActor
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Admin(user) = Admin::from_request_parts(parts, state).await?;
        let actor = actor_for_user(&user, parts, &AppState::from_ref(state));
        Ok(AdminActor { user, actor })
    }
}

/// Any signed-in user as the rules see them (for what users may do to themselves).
pub struct UserActor {
    pub user: UserSummary,
    pub actor: Actor,
}

impl<S> FromRequestParts<S> for UserActor
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let actor = actor_for_user(&user, parts, &AppState::from_ref(state));
        Ok(UserActor { user, actor })
    }
}

/// The actor for a signed-in user on this request: the authority `CurrentUser` (or the
/// API's caller) settled, and the client's address.
pub fn actor_for_user(user: &UserSummary, parts: &Parts, state: &AppState) -> Actor {
    Actor {
        user_id: Some(user.id),
        name: user.username.clone(),
        ip: Some(super::client_ip::of_parts(parts, state).to_string()),
        authority: parts
            .extensions
            .get::<Authority>()
            .cloned()
            .unwrap_or(Authority::User),
    }
}

/// The organization this session works in, checked on every request against the user's
/// enabled memberships: a forged or stale id never reaches a handler.
#[derive(Debug, Clone, Copy)]
pub struct CurrentOrg(pub OrganizationId);

impl<S> FromRequestParts<S> for CurrentOrg
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // CurrentUser settles the organization for the request.
        CurrentUser::from_request_parts(parts, state).await?;
        parts
            .extensions
            .get::<CurrentOrg>()
            .copied()
            .ok_or_else(|| AppError::Unauthorized.into_response())
    }
}

/// The session's organization if the user may still work in it, otherwise their initial
/// one (remembered in the session); with the organizations they may work in.
async fn current_org(
    state: &AppState,
    session: &Session,
    user: UserId,
    workable: &[(OrganizationId, String)],
) -> Result<Option<OrganizationId>, AppError> {
    let stored = session.get::<OrganizationId>(ORG).await.map_err(internal)?;
    if let Some(o) = stored.filter(|o| workable.iter().any(|(id, _)| id == o)) {
        return Ok(Some(o));
    }
    let initial = organizations::initial_among(state, user, workable).await?;
    if let Some(o) = initial {
        session.insert(ORG, o).await.map_err(internal)?;
    }
    Ok(initial)
}

/// Records the switch in the session (the rules have checked it).
pub async fn set_current_org(session: &Session, org: OrganizationId) -> Result<(), AppError> {
    session.insert(ORG, org).await.map_err(internal)
}

/// What the shared page shell needs: who is signed in, the CSRF token for its forms
/// (logout), and the flash messages to show once.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub user: Option<NavUser>,
    /// The organization switcher: the user's enabled organizations and the current one.
    pub orgs: Vec<(OrganizationId, String)>,
    pub current_org: Option<OrganizationId>,
    /// This page's path and query, for forms that come back here.
    pub here: String,
    pub csrf: String,
    pub flashes: Vec<Flash>,
}

#[derive(Debug, Clone)]
pub struct NavUser {
    pub id: UserId,
    pub username: String,
    pub is_admin: bool,
}

impl PageCtx {
    /// For pages rendered where no session could be read (error pages of last resort).
    pub fn bare() -> Self {
        Self {
            user: None,
            orgs: Vec::new(),
            current_org: None,
            here: String::new(),
            csrf: String::new(),
            flashes: Vec::new(),
        }
    }
}

impl<S> FromRequestParts<S> for PageCtx
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let session = Session::from_request_parts(parts, &state)
            .await
            .map_err(IntoResponse::into_response)?;
        let cached = parts
            .extensions
            .get::<CurrentUser>()
            .zip(parts.extensions.get::<CurrentOrg>())
            .zip(parts.extensions.get::<WorkableOrgs>());
        let (user, orgs, current_org) = match cached {
            Some(((CurrentUser(u), CurrentOrg(o)), WorkableOrgs(orgs))) => {
                (Some(u.clone()), orgs.clone(), Some(*o))
            }
            None => match load_user(&state, &session)
                .await
                .map_err(IntoResponse::into_response)?
            {
                Some((u, memberships)) => {
                    let orgs = organizations::workable_of(&memberships);
                    let current = current_org(&state, &session, u.id, &orgs)
                        .await
                        .map_err(IntoResponse::into_response)?;
                    (Some(u), orgs, current)
                }
                None => (None, Vec::new(), None),
            },
        };
        let csrf = csrf_token(&session)
            .await
            .map_err(IntoResponse::into_response)?;
        let flashes = take_flashes(&session)
            .await
            .map_err(IntoResponse::into_response)?;
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let here = uri
            .path_and_query()
            .map_or("/admin", |p| p.as_str())
            .to_owned();
        Ok(PageCtx {
            orgs,
            current_org,
            here,
            user: user.map(|u| NavUser {
                id: u.id,
                username: u.username,
                is_admin: u.is_admin,
            }),
            csrf,
            flashes,
        })
    }
}

/// After the user changed their own password: this session stays valid under the new
/// epoch, while every other one is ended.
pub async fn keep_after_password_change(session: &Session, epoch: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session.insert(EPOCH, epoch).await.map_err(internal)?;
    session.save().await.map_err(internal)
}
