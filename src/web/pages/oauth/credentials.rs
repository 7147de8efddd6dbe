//! The one-time credentials of an OAuth application, after Create or Regenerate Secret.
//! The POST that makes a secret answers with a redirect (post/redirect/get), so a reload
//! never makes a second application or secret; the secret travels to the page that shows
//! it through the session, sealed with the server's secret key (a copy of the session table
//! reveals nothing), and is removed from the session as it is shown: a second look, or a
//! reload, says it was shown once.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use crate::oauth::apps::{self as oauth_apps, AppId, Credentials};
use crate::security::cipher::Sealed;
use crate::state::AppState;
use crate::web::session::{PageCtx, UserActor};

const KEY: &str = "_one_time_secret";

/// What the session holds between the POST and the page.
#[derive(Serialize, Deserialize)]
struct Pending {
    app_id: AppId,
    title: String,
    done: String,
    ciphertext: String,
    nonce: String,
}

/// The secret is bound to the user and the application it was made for.
fn context(user: UserId, app: AppId) -> String {
    format!("gatehouse one-time secret v1/{user}/{app}")
}

#[derive(Template, WebTemplate)]
#[template(path = "oauth/credentials.html")]
pub struct CredentialsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub app_name: String,
    pub client_id: String,
    /// None once it has been shown.
    pub client_secret: Option<String>,
    pub done: String,
}

fn internal<E: Into<anyhow::Error>>(e: E) -> AppError {
    AppError::Internal(e.into())
}

/// Where an application's pages lead back to: its owner's page for an administrator,
/// "My User" for the owner.
pub fn owner_page(caller: &UserActor, owner: UserId) -> String {
    if caller.actor.authority.is_admin() {
        format!("/admin/user/view/{owner}")
    } else {
        "/admin/user/profile/view".into()
    }
}

/// Keeps the new secret for the page it is shown on and sends the browser there.
pub async fn hand_over(
    state: &AppState,
    session: &Session,
    user: UserId,
    title: &str,
    c: &Credentials,
    done: String,
) -> AppResult<Redirect> {
    let sealed = state
        .api_key_cipher
        .seal_bytes(c.secret.expose().as_bytes(), &context(user, c.app.id))?;
    let pending = Pending {
        app_id: c.app.id,
        title: title.to_owned(),
        done,
        ciphertext: STANDARD.encode(sealed.ciphertext),
        nonce: STANDARD.encode(sealed.nonce),
    };
    session.insert(KEY, pending).await.map_err(internal)?;
    Ok(Redirect::to(&format!(
        "/admin/oauth-applications/{}/credentials",
        c.app.id
    )))
}

/// `GET /admin/oauth-applications/{id}/credentials`: the secret once, then never again.
pub async fn credentials(
    u: UserActor,
    ctx: PageCtx,
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
) -> AppResult<Response> {
    let app = oauth_apps::find(&state, &u.actor, id).await?;
    let pending: Option<Pending> = session.get(KEY).await.map_err(internal)?;
    let pending = pending.filter(|p| p.app_id == id);
    let secret = match &pending {
        Some(p) => {
            session.remove_value(KEY).await.map_err(internal)?;
            let sealed = Sealed {
                ciphertext: STANDARD.decode(&p.ciphertext).unwrap_or_default(),
                nonce: STANDARD.decode(&p.nonce).unwrap_or_default(),
            };
            state
                .api_key_cipher
                .open_bytes(&sealed, &context(u.user.id, id))
                .and_then(|b| String::from_utf8(b).ok())
        }
        None => None,
    };
    let status = if secret.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let done = pending
        .as_ref()
        .map_or_else(|| owner_page(&u, app.owner_id), |p| p.done.clone());
    let page = CredentialsPage {
        ctx,
        title: pending.map_or_else(|| "Client Secret".to_owned(), |p| p.title),
        app_name: app.name,
        client_id: app.client_id,
        client_secret: secret,
        done,
    };
    Ok((status, [(header::CACHE_CONTROL, "no-store")], page).into_response())
}
