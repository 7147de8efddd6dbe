//! Mass actions on the grid's selection: checked rows, or "all N matching users", which is
//! re-evaluated here from the grid's filters (never a list of ids from the browser).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::domain::UserId;
use crate::domain::query::UserFilter;
use crate::error::{AppError, AppResult};
use crate::passwords;
use crate::state::AppState;
use crate::users::grid;
use crate::users::lifecycle;
use crate::web::input::Form;
use crate::web::pages::users::lifecycle::{ConfirmPage, back_to};
use crate::web::session::{self, AdminActor, FlashKind, PageCtx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mass {
    Enable,
    Disable,
    Reset,
}

impl Mass {
    /// Title, text and button of the confirmation, OroPlatform's words.
    fn confirmation(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Mass::Enable => ("Enable Users", "Selected users will be enabled.", "Enable"),
            Mass::Disable => (
                "Disable Users",
                "Selected users will be disabled.",
                "Disable",
            ),
            Mass::Reset => (
                "Reset Password",
                "The selected users will receive reset password by email and will be disabled from login.",
                "Reset",
            ),
        }
    }
}

/// Most rows one request may name by id (the grid shows at most 100 per page).
const MAX_IDS: usize = 1000;

fn selection(fields: &[(String, String)]) -> AppResult<UserFilter> {
    let all = fields.iter().any(|(k, v)| k == "all_matching" && v == "1");
    if all {
        let q = fields
            .iter()
            .find(|(k, _)| k == "q")
            .map_or("", |(_, v)| v.as_str());
        return Ok(grid::parse_query_string(q)?.filter);
    }
    let ids = fields
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| {
            v.parse::<UserId>()
                .map_err(|_| AppError::BadRequest(format!("{v:?} is not a user id.")))
        })
        .collect::<AppResult<Vec<UserId>>>()?;
    if ids.is_empty() {
        return Err(AppError::BadRequest(
            "Select at least one user first (or all matching users).".into(),
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(AppError::BadRequest(format!(
            "Select at most {MAX_IDS} users by hand, or use \"all matching\"."
        )));
    }
    Ok(UserFilter::only(ids))
}

pub async fn run(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    session: Session,
    Path(action): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let kind = match action.as_str() {
        "enable" => Mass::Enable,
        "disable" => Mass::Disable,
        "reset" => Mass::Reset,
        _ => return Err(AppError::NotFound),
    };
    let return_to = back_to(&fields, "/admin/user".into());
    // A bad selection (nothing checked, a stale filter) goes back to the grid with the
    // reason; nothing changes.
    let sel = match selection(&fields) {
        Ok(s) => s,
        Err(AppError::BadRequest(m)) => {
            session::flash(&session, FlashKind::Error, m).await?;
            return Ok(Redirect::to(&return_to).into_response());
        }
        Err(e) => return Err(e),
    };
    if !fields.iter().any(|(k, v)| k == "confirm" && v == "1") {
        let hidden = fields
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "ids" | "all_matching" | "q" | "return"))
            .cloned()
            .collect();
        let (title, text, ok) = kind.confirmation();
        return Ok(ConfirmPage {
            ctx,
            title: title.into(),
            text: text.into(),
            action: format!("/admin/user/mass/{action}"),
            hidden,
            ok: ok.into(),
            cancel: return_to,
        }
        .into_response());
    }
    match kind {
        Mass::Enable | Mass::Disable => {
            let enabled = kind == Mass::Enable;
            let verb = if enabled { "enabled" } else { "disabled" };
            let outcome = lifecycle::set_enabled(&state, &a.actor, &sel, enabled).await?;
            session::flash(
                &session,
                FlashKind::Success,
                format!("{} user(s) were {verb}", outcome.changed),
            )
            .await?;
            if outcome.skipped_self {
                session::flash(
                    &session,
                    FlashKind::Info,
                    "Your own account was skipped: you cannot disable yourself.",
                )
                .await?;
            }
        }
        Mass::Reset => {
            let sent = passwords::reset_selection(&state, &a.actor, &sel).await?;
            session::flash(
                &session,
                FlashKind::Success,
                format!("Password reset completed successfully. {sent} emails sent."),
            )
            .await?;
        }
    }
    Ok(Redirect::to(&return_to).into_response())
}
