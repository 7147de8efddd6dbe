//! Flash messages: shown once, on the next page the session views.

use axum::response::Redirect;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::internal;
use crate::error::AppError;

const FLASH: &str = "_flash";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    Success,
    Error,
    Info,
}

impl FlashKind {
    pub fn css(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Info => "info",
        }
    }
}

pub async fn flash(
    session: &Session,
    kind: FlashKind,
    text: impl Into<String>,
) -> Result<(), AppError> {
    let mut list: Vec<Flash> = session
        .get(FLASH)
        .await
        .map_err(internal)?
        .unwrap_or_default();
    list.push(Flash {
        kind,
        text: text.into(),
    });
    session.insert(FLASH, list).await.map_err(internal)
}

/// How a form's outcome reaches the page it came from: the success message, or each field
/// error or refusal, as flashes, then back there; any other error is the error page.
pub async fn flash_outcome(
    session: &Session,
    result: Result<String, AppError>,
    back: &str,
) -> Result<Redirect, AppError> {
    match result {
        Ok(msg) => flash(session, FlashKind::Success, msg).await?,
        Err(AppError::Validation(errs)) => {
            for e in errs {
                flash(session, FlashKind::Error, e.message).await?;
            }
        }
        Err(AppError::Conflict(m)) => flash(session, FlashKind::Error, m).await?,
        Err(e) => return Err(e),
    }
    Ok(Redirect::to(back))
}

pub(super) async fn take_flashes(session: &Session) -> Result<Vec<Flash>, AppError> {
    // `remove` marks the session modified even when the key is absent, which would make
    // every page view write the session back to the database.
    let Some(list) = session.get::<Vec<Flash>>(FLASH).await.map_err(internal)? else {
        return Ok(Vec::new());
    };
    session.remove_value(FLASH).await.map_err(internal)?;
    Ok(list)
}
