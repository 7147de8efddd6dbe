//! How an error looks to an API client: JSON:API error objects
//! (`{"errors":[{"status","title","detail","source"}]}`), `application/vnd.api+json`, and
//! the WSSE challenge on every 401. Internals are logged, never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::FieldError;
use crate::error::AppError;

pub const JSON_API: &str = "application/vnd.api+json";

/// What a 401 asks for (RFC 7235): either scheme is accepted, so both are offered.
pub const WSSE_CHALLENGE: &str = r#"WSSE realm="Secured API", profile="UsernameToken""#;
/// RFC 6750 section 3: the Bearer challenge, and the one that says the token sent was bad.
pub const BEARER_CHALLENGE: &str = r#"Bearer realm="Gatehouse""#;
pub const BEARER_INVALID_CHALLENGE: &str = r#"Bearer realm="Gatehouse", error="invalid_token""#;

/// Where in the request the problem is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A JSON Pointer (RFC 6901) into the request document.
    Pointer(String),
    /// A query parameter.
    Parameter(String),
    /// A request header.
    Header(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorObject {
    pub status: String,
    pub title: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    errors: Vec<ErrorObject>,
    /// A Bearer token was sent and refused: the challenge says so (RFC 6750).
    invalid_bearer: bool,
    /// Seconds for `Retry-After` on a throttled answer.
    retry_after: Option<u64>,
}

fn object(status: StatusCode, detail: impl Into<String>, source: Option<Source>) -> ErrorObject {
    ErrorObject {
        status: status.as_u16().to_string(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        detail: detail.into(),
        source,
    }
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![object(status, detail, None)],
            invalid_bearer: false,
            retry_after: None,
        }
    }

    fn with_source(mut self, source: Source) -> Self {
        if let Some(e) = self.errors.first_mut() {
            e.source = Some(source);
        }
        self
    }

    pub fn pointer(self, pointer: impl Into<String>) -> Self {
        self.with_source(Source::Pointer(pointer.into()))
    }

    pub fn parameter(self, name: impl Into<String>) -> Self {
        self.with_source(Source::Parameter(name.into()))
    }

    pub fn header(self, name: impl Into<String>) -> Self {
        self.with_source(Source::Header(name.into()))
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 401 for an access token that was sent but is not (or no longer) good.
    pub fn invalid_bearer(detail: impl Into<String>) -> Self {
        Self {
            invalid_bearer: true,
            ..Self::unauthorized(detail).header("Authorization")
        }
    }

    /// Field errors from the rules, each pointing at the attribute it is about.
    pub fn validation(errors: &[FieldError], pointer_for: impl Fn(&str) -> String) -> Self {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        Self {
            status,
            errors: errors
                .iter()
                .map(|e| {
                    object(
                        status,
                        e.message.clone(),
                        Some(Source::Pointer(pointer_for(e.field))),
                    )
                })
                .collect(),
            invalid_bearer: false,
            retry_after: None,
        }
    }

    /// The first error's detail.
    pub fn detail(&self) -> &str {
        self.errors.first().map_or("", |e| e.detail.as_str())
    }
}

/// Rules speak `AppError`; field errors get a pointer only where the handler knows the
/// attribute (see `ApiError::validation`), so here they point at the resource.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                "The requested resource does not exist.",
            ),
            AppError::Unauthorized => Self::unauthorized("Authentication required."),
            AppError::Validation(errs) => Self::validation(&errs, |_| "/data".into()),
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. The error was logged; please try again.",
                )
            }
            AppError::TooManyRequests { retry_after } => Self {
                retry_after: Some(retry_after),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    AppError::TooManyRequests { retry_after }.public_message(),
                )
            },
            other => Self::new(other.status(), other.public_message()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "errors": self.errors });
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API))],
            body.to_string(),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            crate::web::errors::retry_after(&mut response, seconds);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            let bearer = if self.invalid_bearer {
                BEARER_INVALID_CHALLENGE
            } else {
                BEARER_CHALLENGE
            };
            let headers = response.headers_mut();
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WSSE_CHALLENGE),
            );
            headers.append(header::WWW_AUTHENTICATE, HeaderValue::from_static(bearer));
        }
        response
    }
}

/// A JSON:API document response.
pub fn document(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API))],
            bytes,
        )
            .into_response(),
        // Only a map with non-string keys fails to serialize, and no document has one.
        Err(e) => ApiError::from(AppError::Internal(e.into())).into_response(),
    }
}
