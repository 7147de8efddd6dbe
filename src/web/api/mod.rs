//! The JSON:API under `/api`: authentication (`caller`, `wsse`), the `users` resource,
//! errors as JSON:API error objects, and the OpenAPI description with its human page.
//! No session or CSRF token is involved: every request carries its own credentials.

pub mod caller;
pub mod doc;
pub mod errors;
pub mod users;
pub mod wsse;

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

pub use caller::{ApiCaller, Scheme};
use errors::{ApiError, JSON_API};

/// Largest request document accepted; a user resource is a few hundred bytes.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

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
        let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(format!("The request body is not valid JSON: {e}.")).pointer("")
        })?;
        if let Some(pointer) = unclean_string(&doc, String::new()) {
            return Err(ApiError::bad_request(
                "This string contains a control character (such as a NUL byte or a line break), which no attribute accepts.",
            )
            .pointer(pointer));
        }
        Ok(JsonApiBody(doc))
    }
}

/// The JSON Pointer (RFC 6901) of the first string, or object key, holding a control
/// character: JSON can carry `\u0000`, which PostgreSQL cannot store.
fn unclean_string(v: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    let escape = |s: &str| s.replace('~', "~0").replace('/', "~1");
    match v {
        Value::String(s) => crate::web::input::clean(s).is_err().then_some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| unclean_string(item, format!("{at}/{i}"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let here = format!("{at}/{}", escape(k));
            if crate::web::input::clean(k).is_err() {
                return Some(here);
            }
            unclean_string(item, here)
        }),
        _ => None,
    }
}
