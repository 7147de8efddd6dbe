//! One user's lifecycle actions, from their page or the grid's row menu: Enable User,
//! Disable User, Activate and Delete (through "Deletion Confirmation").

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Redirect;
use tower_sessions::Session;

use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::users::lifecycle;
use crate::web::input::Form;
use crate::web::pages::users::login::safe_next;
use crate::web::session::{self, AdminActor, FlashKind, PageCtx};

/// The generic confirmation page: the no-JavaScript form of every confirmation dialog.
#[derive(Template, WebTemplate)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub ctx: PageCtx,
    pub title: String,
    pub text: String,
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub ok: String,
    pub cancel: String,
}

/// Where to go after an action: the posted `return` path if it is on this site.
pub fn back_to(fields: &[(String, String)], fallback: String) -> String {
    fields
        .iter()
        .find(|(k, _)| k == "return")
        .map(|(_, v)| v.clone())
        .filter(|v| safe_next(v))
        .unwrap_or(fallback)
}

pub async fn enable(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Redirect> {
    set_enabled(&a, &state, &session, id, &fields, true).await
}

pub async fn disable(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Redirect> {
    set_enabled(&a, &state, &session, id, &fields, false).await
}

/// Enable User / Disable User, from the user's page or the grid's row menu (which comes
/// back to the grid state it was posted from).
async fn set_enabled(
    a: &AdminActor,
    state: &AppState,
    session: &Session,
    id: UserId,
    fields: &[(String, String)],
    enabled: bool,
) -> AppResult<Redirect> {
    let user = lifecycle::set_user_enabled(state, &a.actor, id, enabled).await?;
    let done = if enabled { "enabled" } else { "disabled" };
    session::flash(
        session,
        FlashKind::Success,
        format!("User {} {done}.", user.username),
    )
    .await?;
    Ok(Redirect::to(&back_to(
        fields,
        format!("/admin/user/view/{id}"),
    )))
}

pub async fn activate(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
) -> AppResult<Redirect> {
    let user = lifecycle::activate(&state, &a.actor, id).await?;
    session::flash(
        &session,
        FlashKind::Success,
        format!("User {} activated.", user.username),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/user/view/{id}")))
}

/// The "Deletion Confirmation" page (the dialog's no-JavaScript form).
pub async fn delete_confirm(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<UserId>,
) -> AppResult<ConfirmPage> {
    let user = crate::users::get(&state, &a.actor, id).await?;
    if let Some(reason) = lifecycle::delete_blocker(&state, &a.actor, id).await? {
        return Err(AppError::Conflict(reason));
    }
    Ok(ConfirmPage {
        ctx,
        title: "Deletion Confirmation".into(),
        text: format!("Are you sure you want to delete user {}?", user.username),
        action: format!("/admin/user/delete/{id}"),
        hidden: Vec::new(),
        ok: "Yes, Delete".into(),
        cancel: format!("/admin/user/view/{id}"),
    })
}

pub async fn delete(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
) -> AppResult<Redirect> {
    match lifecycle::delete(&state, &a.actor, id).await {
        Ok(user) => {
            session::flash(
                &session,
                FlashKind::Success,
                format!("User {} deleted.", user.username),
            )
            .await?;
            Ok(Redirect::to("/admin/user"))
        }
        // Refusals go back to the user's page with the reason, as Oro shows them.
        Err(AppError::Conflict(reason)) => {
            session::flash(&session, FlashKind::Error, reason).await?;
            Ok(Redirect::to(&format!("/admin/user/view/{id}")))
        }
        Err(e) => Err(e),
    }
}
