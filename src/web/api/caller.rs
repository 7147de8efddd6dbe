//! `ApiCaller`: who an API request acts as. Each credential scheme turns its header into
//! an `ApiIdentity` (a user allowed in, and the organization they act in); everything
//! after that (authorization, the audit actor) is the same whatever the scheme.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use super::errors::ApiError;
use super::wsse;
use crate::accounts::Actor;
use crate::accounts::api_keys::{ApiIdentity, WsseToken};
use crate::state::AppState;
use crate::store::organizations::OrganizationRow;
use crate::store::users::UserRow;
use crate::web::session::actor_for_user as actor_for;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `X-WSSE` UsernameToken with the user's API key.
    Wsse,
    // Issue 9 adds `Bearer { application_id }`: an OAuth access token acting as the
    // application's owner in the application's organization.
}

/// Credentials as found on the request, before they are verified.
enum Presented {
    Wsse(WsseToken),
    /// `Authorization: Bearer <token>`; verified once the token endpoint exists.
    Bearer,
}

fn presented(parts: &Parts) -> Result<Option<Presented>, ApiError> {
    // X-WSSE first: WSSE clients often also send `Authorization: WSSE profile=...`,
    // which names the scheme and carries nothing to verify.
    if let Some(token) = wsse::token(&parts.headers) {
        return token.map(|t| Some(Presented::Wsse(t)));
    }
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let scheme = authorization.split_whitespace().next().unwrap_or("");
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Some(Presented::Bearer));
    }
    if scheme.eq_ignore_ascii_case("wsse") {
        return Err(ApiError::unauthorized(format!(
            "The Authorization header names WSSE, but the {} header with the UsernameToken is missing.",
            wsse::HEADER
        ))
        .header(wsse::HEADER));
    }
    Ok(None)
}

/// An authenticated API caller, reloaded on every request: a user who is enabled, active
/// and not waiting for a password reset, acting within one organization.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub user: UserRow,
    /// The organization the caller acts in; the API shows and changes only its members.
    pub organization: OrganizationRow,
    pub is_admin: bool,
    pub scheme: Scheme,
    /// For the rules and the audit log.
    pub actor: Actor,
}

impl<S> FromRequestParts<S> for ApiCaller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<ApiCaller>() {
            return Ok(c.clone());
        }
        let state = AppState::from_ref(state);
        let (identity, scheme) = match presented(parts)? {
            Some(Presented::Wsse(token)) => {
                (wsse::authenticate(&state, &token).await?, Scheme::Wsse)
            }
            Some(Presented::Bearer) => {
                return Err(ApiError::unauthorized(format!(
                    "Bearer access tokens are not accepted yet; authenticate with the {} header (WSSE and your API key).",
                    wsse::HEADER
                ))
                .header("Authorization"));
            }
            None => {
                return Err(ApiError::unauthorized(format!(
                    "Authentication required: send an {} header (WSSE UsernameToken made with your API key; see /api/doc).",
                    wsse::HEADER
                )));
            }
        };
        let ApiIdentity { user, organization } = identity;
        let caller = ApiCaller {
            is_admin: user.is_admin,
            actor: actor_for(&user, parts),
            user,
            organization,
            scheme,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}
