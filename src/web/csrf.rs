//! CSRF protection for every state-changing request outside the token-authenticated API:
//! the session's token must come back in the `_csrf` form field (or `X-CSRF-Token` header),
//! and a browser-sent `Origin` must be this site. Checked here, before any handler reads
//! the form, so no route can forget it.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::session::stored_csrf_token;
use crate::error::AppError;
use crate::state::AppState;

pub const FIELD: &str = "_csrf";

pub async fn guard(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let path = req.uri().path();
    // The API and the token endpoint authenticate every request with credentials that a
    // browser never attaches on its own, so they carry no CSRF risk.
    if path.starts_with("/api/") || path == "/oauth2-token" {
        return next.run(req).await;
    }
    if !origin_allowed(req.headers(), &state) {
        return rejected();
    }
    let expected = stored_csrf_token(&session).await;
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, super::input::MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return AppError::TooLarge("The submitted form is too large.".into()).into_response();
        }
    };
    let sent = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            url::form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == FIELD)
                .map(|(_, v)| v.into_owned())
        });
    let valid = match (expected, sent) {
        (Some(e), Some(s)) => bool::from(e.as_bytes().ct_eq(s.as_bytes())),
        _ => false,
    };
    if !valid {
        return rejected();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn rejected() -> Response {
    AppError::Forbidden(
        "This form has expired or was not sent from this site. Go back, reload the page and try again."
            .into(),
    )
    .into_response()
}

/// A request that names its origin must come from this site: the configured public URL or
/// the host it was addressed to.
fn origin_allowed(headers: &HeaderMap, state: &AppState) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == "null" {
        return false;
    }
    let public = state
        .settings
        .server
        .public_url
        .origin()
        .ascii_serialization();
    if origin == public {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| o == host)
}
