//! Change Password (an administrator's, and one's own on "My User"), Reset Password for one
//! user, and "Suggest Password".

pub mod reset;

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::{FieldError, PlainPassword, UserId};
use crate::error::{AppError, AppResult};
use crate::passwords;
use crate::state::AppState;
use crate::users::{self, login};
use crate::web::input::{Form, Query};
use crate::web::pages::users::lifecycle::back_to;
use crate::web::session::{self, AdminActor, CurrentUser, FlashKind, PageCtx, UserActor};

#[derive(Template, WebTemplate)]
#[template(path = "users/change_password.html")]
pub struct ChangePasswordPage {
    pub ctx: PageCtx,
    pub action: String,
    pub cancel: String,
    pub username: String,
    /// "My User" asks for the current password first.
    pub own: bool,
    pub suggested: String,
    pub policy: String,
    pub errors: Vec<FieldError>,
}

impl ChangePasswordPage {
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize)]
pub struct SuggestParam {
    suggest: Option<String>,
}

/// The no-JavaScript page behind the "Change Password" dialog. `?suggest=1` (the
/// "Suggest Password" link) fills the field with a policy-conforming password.
pub async fn admin_form(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    Query(q): Query<SuggestParam>,
) -> AppResult<ChangePasswordPage> {
    let user = users::get(&state, &a.actor, id).await?;
    Ok(page(
        &state,
        ctx,
        &user.username,
        Some(id),
        q.suggest.is_some(),
        Vec::new(),
    ))
}

fn page(
    state: &AppState,
    ctx: PageCtx,
    username: &str,
    target: Option<UserId>,
    suggest: bool,
    errors: Vec<FieldError>,
) -> ChangePasswordPage {
    let policy = &state.settings.security.password;
    ChangePasswordPage {
        ctx,
        action: target.map_or("/admin/user/profile/change-password".into(), |id| {
            format!("/admin/user/change-password/{id}")
        }),
        cancel: target.map_or("/admin/user/profile/view".into(), |id| {
            format!("/admin/user/view/{id}")
        }),
        username: username.to_owned(),
        own: target.is_none(),
        suggested: if suggest {
            policy.suggest().expose().to_owned()
        } else {
            String::new()
        },
        policy: policy.describe(),
        errors,
    }
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    current_password: String,
}

pub async fn admin_change(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Form(f): Form<ChangeForm>,
) -> AppResult<Response> {
    let user = users::get(&state, &a.actor, id).await?;
    match passwords::change_by_admin(&state, &a.actor, id, &PlainPassword::new(f.password)).await {
        Ok(u) => {
            session::flash(
                &session,
                FlashKind::Success,
                format!("The password of {} was changed.", u.username),
            )
            .await?;
            Ok(Redirect::to(&format!("/admin/user/view/{id}")).into_response())
        }
        Err(AppError::Validation(errs)) => {
            let p = page(&state, ctx, &user.username, Some(id), false, errs);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn own_form(
    CurrentUser(me): CurrentUser,
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<SuggestParam>,
) -> ChangePasswordPage {
    page(
        &state,
        ctx,
        &me.username,
        None,
        q.suggest.is_some(),
        Vec::new(),
    )
}

pub async fn own_change(
    UserActor { user: me, actor }: UserActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<ChangeForm>,
) -> AppResult<Response> {
    let this = session.id().map(|i| i.to_string());
    let result = passwords::change_own(
        &state,
        &actor,
        &PlainPassword::new(f.current_password),
        &PlainPassword::new(f.password),
        this.as_deref(),
    )
    .await;
    match result {
        Ok(epoch) => {
            session::keep_after_password_change(&session, epoch).await?;
            if let Some(id) = session.id() {
                login::register_session(&state, me.id, &id.to_string()).await?;
            }
            session::flash(&session, FlashKind::Success, "Your password was changed.").await?;
            Ok(Redirect::to("/admin/user/profile/view").into_response())
        }
        Err(AppError::Validation(errs)) => {
            let p = page(&state, ctx, &me.username, None, false, errs);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e),
    }
}

/// "Reset Password" for one user (user page's More Actions, and the grid's row menu).
pub async fn reset_one(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Redirect> {
    let user = passwords::request_reset(&state, &a.actor, id).await?;
    session::flash(
        &session,
        FlashKind::Success,
        format!("Password reset request has been sent to {}.", user.email),
    )
    .await?;
    Ok(Redirect::to(&back_to(
        &fields,
        format!("/admin/user/view/{id}"),
    )))
}

/// "Suggest Password": a random password that meets the policy, from the OS generator.
pub async fn suggest(CurrentUser(_me): CurrentUser, State(state): State<AppState>) -> Response {
    let pw = state.settings.security.password.suggest();
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "password": pw.expose() })),
    )
        .into_response()
}
