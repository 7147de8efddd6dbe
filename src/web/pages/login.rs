//! `/admin/user/login` and `/admin/user/logout`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::{Expiry, Session};

use crate::accounts::login;
use crate::domain::PlainPassword;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::session::{self, FlashKind, PageCtx};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub username: String,
    pub next: String,
    pub error: Option<&'static str>,
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    ctx: PageCtx,
    Form(f): Form<LoginForm>,
) -> AppResult<Response> {
    let ip = peer.ip().to_string();
    let password = PlainPassword::new(f.password);
    match login::login(&state, &f.username, &password, Some(&ip)).await? {
        Ok(user) => {
            session::sign_in(&state, &session, &user).await?;
            if f.remember_me.is_some() {
                session.set_expiry(Some(Expiry::OnInactivity(time::Duration::days(30))));
            }
            let target = if safe_next(&f.next) {
                f.next.as_str()
            } else {
                home_for(user.is_admin)
            };
            Ok(Redirect::to(target).into_response())
        }
        Err(refusal) => Ok(LoginPage {
            ctx,
            username: f.username,
            next: if safe_next(&f.next) {
                f.next
            } else {
                String::new()
            },
            error: Some(refusal.message()),
        }
        .into_response()),
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
/// another host.
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
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
    }
}
