//! The JSON:API under `/api`: authentication (`caller`, `wsse`), the `users` resource,
//! errors as JSON:API error objects, and the OpenAPI description with its human page.
//! No session or CSRF token is involved: every request carries its own credentials.

pub mod caller;
pub mod doc;
pub mod errors;
pub mod users;
pub mod wsse;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::routing::get;

pub use caller::{ApiCaller, Scheme};
use errors::{ApiError, JSON_API};

use crate::error::AppError;
use crate::state::AppState;

/// Largest request document accepted; a user resource is a few hundred bytes.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::show).patch(users::update).delete(users::delete),
        )
        .route("/doc", get(doc::page))
        .route("/doc.json", get(doc::openapi))
        .fallback(|| async { ApiError::from(AppError::NotFound) })
}

/// A JSON:API request document: `Content-Type: application/vnd.api+json` (415 otherwise,
/// as JSON:API asks) and well-formed JSON (400 otherwise); its shape is the handler's.
pub struct JsonApiBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonApiBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut parts = content_type.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("");
        // JSON:API allows only its `ext` and `profile` media type parameters.
        let params_ok = parts.all(|p| p.starts_with("ext=") || p.starts_with("profile="));
        if !essence.eq_ignore_ascii_case(JSON_API) || !params_ok {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Send the request document as {JSON_API}, not {:?}.",
                    content_type
                ),
            )
            .header("Content-Type"));
        }
        let bytes = to_bytes(req.into_body(), MAX_DOCUMENT_BYTES)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "The request document is larger than {} KiB.",
                        MAX_DOCUMENT_BYTES / 1024
                    ),
                )
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonApiBody)
            .map_err(|e| {
                ApiError::bad_request(format!("The request body is not valid JSON: {e}."))
                    .pointer("")
            })
    }
}
