//! `/admin/user/login` and `/admin/user/logout`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::{Expiry, Session};

use crate::domain::PlainPassword;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::users::login;
use crate::web::client_ip::ClientIp;
use crate::web::input::{Form, Query};
use crate::web::session::{self, FlashKind, PageCtx};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
    /// Under a refusal: what else it may mean (the same text whatever the reason).
    pub hint: bool,
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

pub async fn form(ctx: PageCtx, Query(q): Query<NextParam>) -> Response {
    if let Some(u) = &ctx.user {
        return Redirect::to(home_for(u.is_admin)).into_response();
    }
    LoginPage {
        ctx,
        username: String::new(),
        next: q.next.filter(|n| safe_next(n)).unwrap_or_default(),
        error: None,
        hint: false,
    }
    .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    remember_me: Option<String>,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    ctx: PageCtx,
    Form(f): Form<LoginForm>,
) -> AppResult<Response> {
    let password = PlainPassword::new(f.password);
    let refused = |ctx, username, next: String, error, hint| LoginPage {
        ctx,
        username,
        next: if safe_next(&next) {
            next
        } else {
            String::new()
        },
        error: Some(error),
        hint,
    };
    let outcome = match login::login(&state, &f.username, &password, &ip.to_string()).await {
        Ok(outcome) => outcome,
        Err(e @ AppError::TooManyRequests { retry_after }) => {
            let page = refused(ctx, f.username, f.next, e.public_message(), false);
            let mut response = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
            crate::web::errors::retry_after(&mut response, retry_after);
            return Ok(response);
        }
        Err(e) => return Err(e),
    };
    match outcome {
        Ok(user) => {
            session::sign_in(&state, &session, &user).await?;
            if f.remember_me.is_some() {
                // Remembered as long as a session may last at all.
                let lifetime =
                    i64::try_from(state.settings.security.session_lifetime).unwrap_or(i64::MAX);
                session.set_expiry(Some(Expiry::OnInactivity(time::Duration::seconds(
                    lifetime,
                ))));
            }
            let target = if safe_next(&f.next) {
                f.next.as_str()
            } else {
                home_for(user.is_admin)
            };
            Ok(Redirect::to(target).into_response())
        }
        Err(_) => {
            Ok(refused(ctx, f.username, f.next, login::REFUSED.to_owned(), true).into_response())
        }
    }
}

pub async fn logout(session: Session) -> AppResult<Redirect> {
    session::sign_out(&session).await?;
    session::flash(&session, FlashKind::Info, "You have been logged out.").await?;
    Ok(Redirect::to(session::LOGIN_PATH))
}

pub fn home_for(is_admin: bool) -> &'static str {
    if is_admin {
        "/admin/user"
    } else {
        "/admin/user/profile/view"
    }
}

/// Only paths on this site: "/x" but not "//host" or "/\host", which browsers treat as
/// another host; and only visible ASCII (a path the site made is percent-encoded), since
/// it goes into a `Location` header.
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_on_site() {
        assert!(super::safe_next("/admin/user?page=2"));
        assert!(!super::safe_next("//evil.example"));
        assert!(!super::safe_next("/\\evil.example"));
        assert!(!super::safe_next("https://evil.example"));
        assert!(!super::safe_next(""));
        assert!(
            !super::safe_next("/admin/user?x=\u{fc}"),
            "goes into a header"
        );
        assert!(!super::safe_next("/admin\r\nSet-Cookie: x"));
    }
}
