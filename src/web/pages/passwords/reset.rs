//! "Forgot your password?" (`/admin/user/reset-request`) and the page a reset link opens
//! (`/admin/user/reset/{token}`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::{FieldError, PlainPassword};
use crate::error::{AppError, AppResult};
use crate::passwords::{self, InvalidResetLink};
use crate::state::AppState;
use crate::web::client_ip::ClientIp;
use crate::web::input::Form;
use crate::web::session::{self, FlashKind, LOGIN_PATH, PageCtx};

/// The one answer to a reset request, whether or not the account exists or a link was sent.
pub const REQUEST_ANSWER: &str =
    "If the account exists, we have sent an email with a link to reset the password.";
pub const RESET_DONE: &str = "Your password was changed. You can log in now.";

#[derive(Template, WebTemplate)]
#[template(path = "password/request.html")]
pub struct RequestPage {
    pub ctx: PageCtx,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "password/reset.html")]
pub struct ResetPage {
    pub ctx: PageCtx,
    pub username: String,
    pub policy: String,
    pub password_error: Option<String>,
    pub repeat_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "password/invalid_link.html")]
pub struct InvalidLinkPage {
    pub ctx: PageCtx,
}

pub async fn request_form(ctx: PageCtx) -> RequestPage {
    RequestPage {
        ctx,
        username: String::new(),
        error: None,
    }
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    username: String,
}

pub async fn request_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    ctx: PageCtx,
    Form(f): Form<RequestForm>,
) -> AppResult<Response> {
    match passwords::forgot_password(&state, &f.username, &ip.to_string()).await {
        Ok(()) => {
            session::flash(&session, FlashKind::Info, REQUEST_ANSWER).await?;
            Ok(Redirect::to(LOGIN_PATH).into_response())
        }
        Err(AppError::Validation(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            RequestPage {
                ctx,
                username: f.username,
                error: Some(messages(&errors)),
            },
        )
            .into_response()),
        Err(e @ AppError::TooManyRequests { retry_after }) => {
            let page = RequestPage {
                ctx,
                username: f.username,
                error: Some(e.public_message()),
            };
            let mut response = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
            crate::web::errors::retry_after(&mut response, retry_after);
            Ok(response)
        }
        Err(e) => Err(e),
    }
}

pub async fn reset_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let page = match passwords::reset_link_user(&state, &token).await? {
        Ok(user) => ResetPage {
            ctx,
            username: user.username,
            policy: state.settings.security.password.describe(),
            password_error: None,
            repeat_error: None,
        }
        .into_response(),
        Err(InvalidResetLink) => invalid_link(ctx),
    };
    Ok(private(page))
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    ctx: PageCtx,
    Path(token): Path<String>,
    Form(f): Form<ResetForm>,
) -> AppResult<Response> {
    // An unusable link says so first, before any remark on the password.
    let user = match passwords::reset_link_user(&state, &token).await? {
        Ok(user) => user,
        Err(InvalidResetLink) => return Ok(private(invalid_link(ctx))),
    };
    let form_error = |ctx, password_error, repeat_error| {
        private(
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ResetPage {
                    ctx,
                    username: user.username.clone(),
                    policy: state.settings.security.password.describe(),
                    password_error,
                    repeat_error,
                },
            )
                .into_response(),
        )
    };
    if f.password != f.password_repeat {
        return Ok(form_error(
            ctx,
            None,
            Some("The passwords do not match.".to_owned()),
        ));
    }
    let ip = ip.to_string();
    let password = PlainPassword::new(f.password);
    match passwords::complete_reset(&state, &token, &password, Some(&ip)).await {
        Ok(Ok(_)) => {
            session::flash(&session, FlashKind::Success, RESET_DONE).await?;
            Ok(Redirect::to(LOGIN_PATH).into_response())
        }
        Ok(Err(InvalidResetLink)) => Ok(private(invalid_link(ctx))),
        Err(AppError::Validation(errors)) => Ok(form_error(ctx, Some(messages(&errors)), None)),
        Err(e) => Err(e),
    }
}

/// 410 Gone: the link existed once (or never), and will not work again either way.
fn invalid_link(ctx: PageCtx) -> Response {
    (StatusCode::GONE, InvalidLinkPage { ctx }).into_response()
}

/// Pages reached through a reset link carry the token in their address: keep them out of
/// every cache.
fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}
