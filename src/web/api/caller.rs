//! `ApiCaller`: who an API request acts as. Each credential scheme turns its header into
//! an `ApiIdentity` (a user allowed in, and the organization they act in); everything
//! after that (authorization, the audit actor) is the same whatever the scheme.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use super::errors::ApiError;
use super::wsse;
use crate::access::Actor;
use crate::api_keys::{ApiIdentity, WsseToken};
use crate::error::AppError;
use crate::oauth::apps::AppId;
use crate::oauth::apps::{BearerCaller, verify_bearer};
use crate::organizations::OrganizationRow;
use crate::state::AppState;
use crate::users::UserSummary;
use crate::web::oauth::bearer::bearer_token;
use crate::web::session::actor_for_user as actor_for;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `X-WSSE` UsernameToken with the user's API key.
    Wsse,
    /// `Authorization: Bearer` with an OAuth access token: the application's owner, in the
    /// application's organization.
    Bearer { application_id: AppId },
}

/// Credentials as found on the request, before they are verified.
enum Presented {
    Wsse(WsseToken),
    /// `Authorization: Bearer <token>` (RFC 6750 section 2.1).
    Bearer(String),
}

fn presented(parts: &Parts) -> Result<Option<Presented>, ApiError> {
    // X-WSSE first: WSSE clients often also send `Authorization: WSSE profile=...`,
    // which names the scheme and carries nothing to verify.
    if let Some(token) = wsse::token(&parts.headers) {
        return token.map(|t| Some(Presented::Wsse(t)));
    }
    if let Some(token) = bearer_token(&parts.headers) {
        return match token {
            Ok(token) => Ok(Some(Presented::Bearer(token.to_owned()))),
            Err(malformed) => Err(ApiError::invalid_bearer(malformed)),
        };
    }
    let scheme = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or("");
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
    pub user: UserSummary,
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
                let ip = crate::web::client_ip::of_parts(parts, &state).to_string();
                (wsse::authenticate(&state, &token, &ip).await?, Scheme::Wsse)
            }
            Some(Presented::Bearer(token)) => bearer(&state, &token).await?,
            None => {
                return Err(ApiError::unauthorized(format!(
                    "Authentication required: send an {} header (WSSE UsernameToken made with your API key) or an OAuth access token as Authorization: Bearer (see /api/doc).",
                    wsse::HEADER
                )));
            }
        };
        let ApiIdentity {
            user,
            organization,
            authority,
        } = identity;
        parts.extensions.insert(authority.clone());
        let caller = ApiCaller {
            is_admin: authority.is_admin(),
            actor: actor_for(&user, parts, &state),
            user,
            organization,
            scheme,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// Verifies an access token; every refusal reads the same to the caller (the reason is in
/// the debug log), as RFC 6750 asks.
async fn bearer(state: &AppState, token: &str) -> Result<(ApiIdentity, Scheme), ApiError> {
    match verify_bearer(state, token).await {
        Ok(BearerCaller {
            user,
            organization,
            authority,
            app_id,
            ..
        }) => Ok((
            ApiIdentity {
                user,
                organization,
                authority,
            },
            Scheme::Bearer {
                application_id: app_id,
            },
        )),
        Err(AppError::Unauthorized) => Err(ApiError::invalid_bearer(
            "The access token is invalid or expired, or its application may no longer be used: request a new one from /oauth2-token.",
        )),
        Err(e) => Err(e.into()),
    }
}
