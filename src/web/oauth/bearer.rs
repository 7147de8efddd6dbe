//! `Authorization: Bearer` for the API (RFC 6750), and `GET /api/oauth/whoami`, which shows
//! whom a token acts as. The JSON:API's own authentication will fold `Bearer` in.

use axum::Json;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::AppError;
use crate::oauth::apps::{BearerCaller, verify_bearer};
use crate::state::AppState;
use crate::web::api::errors::{BEARER_CHALLENGE, BEARER_INVALID_CHALLENGE};

/// What a malformed `Authorization: Bearer` header is told.
pub const MALFORMED: &str =
    "The Authorization header must be \"Bearer\" followed by one access token.";

/// The access token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1):
/// None when the header names another scheme or is absent, an error when it names Bearer
/// without exactly one token. The one reading of the header, for `Bearer` and the JSON:API.
pub fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, &'static str>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let mut words = value.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(match (words.next(), words.next()) {
        (Some(token), None) => Ok(token),
        _ => Err(MALFORMED),
    })
}

/// A request carrying a valid access token, acting as its application's owner.
#[derive(Debug, Clone)]
pub struct Bearer(pub BearerCaller);

impl<S> FromRequestParts<S> for Bearer
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = match bearer_token(&parts.headers) {
            None => return Err(challenge(None)),
            Some(Err(malformed)) => return Err(challenge(Some(malformed))),
            Some(Ok(token)) => token,
        };
        match verify_bearer(&state, token).await {
            Ok(caller) => Ok(Bearer(caller)),
            Err(AppError::Unauthorized) => Err(challenge(Some(
                "The access token is invalid, expired, or its application may no longer be used.",
            ))),
            Err(e) => {
                tracing::error!(error = %e.describe(), "bearer check failed");
                Err((
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": "server_error"})),
                )
                    .into_response())
            }
        }
    }
}

/// 401 with the RFC 6750 section 3 challenge; `error="invalid_token"` once a token was sent.
fn challenge(invalid: Option<&'static str>) -> Response {
    let (value, body) = match invalid {
        None => (
            HeaderValue::from_static(BEARER_CHALLENGE),
            json!({"error": "unauthorized", "error_description": "An access token is required."}),
        ),
        Some(why) => (
            HeaderValue::from_static(BEARER_INVALID_CHALLENGE),
            json!({"error": "invalid_token", "error_description": why}),
        ),
    };
    let mut r = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    r.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    r
}

pub async fn whoami(Bearer(c): Bearer) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "user_id": c.user.id,
            "username": c.user.username,
            "organization_id": c.organization.id,
            "client_id": c.client_id,
        })),
    )
        .into_response()
}
