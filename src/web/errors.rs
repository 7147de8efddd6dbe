//! How an `AppError` looks to a browser. Internals are logged, never shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::session::PageCtx;
use crate::error::AppError;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: PageCtx,
    pub status: u16,
    pub title: String,
    pub message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text a person may see.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "The page or record you asked for does not exist.".into(),
            AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::BadRequest(m)
            | AppError::TooLarge(m) => m.clone(),
            AppError::TooManyRequests { retry_after } => format!(
                "Too many failed attempts from your address or for this account. Please try again in {}.",
                wait_text(*retry_after)
            ),
            AppError::Unauthorized => "Please log in.".into(),
            AppError::Validation(errs) => errs
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            AppError::Internal(_) => {
                "Something went wrong on our side. The error was logged; please try again.".into()
            }
        }
    }
}

/// "3 minutes", "45 seconds".
pub fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// `Retry-After` (RFC 9110 section 10.2.3) for a throttled answer.
pub fn retry_after(response: &mut Response, seconds: u64) {
    response
        .headers_mut()
        .insert(axum::http::header::RETRY_AFTER, seconds.max(1).into());
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let wait = match &self {
            AppError::TooManyRequests { retry_after } => Some(*retry_after),
            _ => None,
        };
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let page = ErrorPage {
            ctx: PageCtx::bare(),
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.public_message(),
        };
        let mut response = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, page.message).into_response(),
        };
        if let Some(seconds) = wait {
            retry_after(&mut response, seconds);
        }
        response
    }
}
