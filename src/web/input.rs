//! Forms and query strings, checked where they are parsed (`domain::input`): a NUL byte,
//! another control character, a broken encoding or an over-long value is a 400 naming the
//! field, before any handler runs, and changes nothing. `Form` and `Query` here replace
//! axum's (clippy.toml forbids those), so no route reads unchecked input.

use axum::body::to_bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use serde::de::DeserializeOwned;

pub use crate::domain::input::{clean, pairs};
use crate::error::AppError;

/// Largest form body accepted (back-office forms are small; the largest, a mass action
/// naming its rows, is well under it).
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

fn deserialize<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    pairs(raw)?;
    serde_urlencoded::from_bytes(raw)
        .map_err(|e| AppError::BadRequest(format!("The submitted form could not be read: {e}.")))
}

/// A form body, checked as above.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let raw = req.uri().query().unwrap_or("").as_bytes().to_vec();
            return deserialize(&raw).map(Form);
        }
        let form_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let bytes = to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| AppError::TooLarge("The submitted form is too large.".into()))?;
        if !form_type && !bytes.is_empty() {
            return Err(AppError::BadRequest(
                "Send the form as application/x-www-form-urlencoded.".into(),
            ));
        }
        deserialize(&bytes).map(Form)
    }
}

/// A query string, checked as above.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        deserialize(parts.uri.query().unwrap_or("").as_bytes()).map(Query)
    }
}
