//! One error type for every layer below the web. It knows nothing of HTTP: `web::errors`
//! decides how each variant is shown (HTML page, form, JSON:API, OAuth).

use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// Signed in, but this is not theirs to do; the text says why.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("authentication required")]
    Unauthorized,
    /// Input that breaks a rule, field by field.
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// A request that is well-formed but cannot be carried out in the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A request body over the size the endpoint accepts.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Throttled: too many failed attempts from this address or for this account. Try
    /// again in `retry_after` seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(vec![e])
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(e.into())
    }
}

impl AppError {
    /// A one-line description for the console (CLI and start-up), field by field.
    pub fn describe(&self) -> String {
        match self {
            AppError::Validation(errs) => errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            AppError::Internal(e) => format!("{e:#}"),
            other => other.to_string(),
        }
    }
}
