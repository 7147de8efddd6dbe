//! HTTP only: routes, extractors, and how errors look. No rules and no SQL here.

pub mod api;
pub mod bearer;
pub mod csrf;
pub mod errors;
pub mod oauth_token;
pub mod pages;
pub mod session;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::error::AppError;
use crate::state::AppState;
use crate::store::sessions::Sessions;

pub const SESSION_COOKIE: &str = "gatehouse_session";

pub fn router(state: AppState, sessions: Sessions) -> Router {
    let idle = i64::try_from(state.settings.security.session_idle_timeout).unwrap_or(i64::MAX);
    // Lax, not Strict: a click on the link in a reset or export email must arrive with the
    // session. Secure whenever the public URL is https.
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.cookies_secure())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(idle)));

    let admin = Router::new()
        .route("/", get(|| async { Redirect::to("/admin/user") }))
        .route("/user", get(pages::users::grid))
        .route("/user/", get(pages::users::grid))
        .route("/user/view/{id}", get(pages::user_page::view))
        .route(
            "/user/create",
            get(pages::user_forms::create_form).post(pages::user_forms::create),
        )
        .route(
            "/user/update/{id}",
            get(pages::user_forms::edit_form).post(pages::user_forms::update),
        )
        .route("/user/enable/{id}", post(pages::user_actions::enable))
        .route("/user/disable/{id}", post(pages::user_actions::disable))
        .route("/user/activate/{id}", post(pages::user_actions::activate))
        .route(
            "/user/delete/{id}",
            get(pages::user_actions::delete_confirm).post(pages::user_actions::delete),
        )
        .route("/user/mass/{action}", post(pages::mass::run))
        .route(
            "/user/change-password/{id}",
            get(pages::passwords::admin_form).post(pages::passwords::admin_change),
        )
        .route(
            "/user/profile/change-password",
            get(pages::passwords::own_form).post(pages::passwords::own_change),
        )
        .route(
            "/user/reset-password/{id}",
            post(pages::passwords::reset_one),
        )
        .route("/user/suggest-password", get(pages::passwords::suggest))
        .route("/user/export", post(pages::exports::start))
        .route("/user/export/{id}/download", get(pages::exports::download))
        .route(
            "/user/fields",
            get(pages::exports::fields_form).post(pages::exports::save_fields),
        )
        .route("/user/views", post(pages::views::save))
        .route("/user/views/{id}/rename", post(pages::views::rename))
        .route("/user/views/{id}/delete", post(pages::views::delete))
        .route("/user/views/{id}/default", post(pages::views::set_default))
        .route("/user/profile/view", get(pages::user_page::profile))
        .route("/user/apigen/{id}", post(pages::api_key::generate))
        .route(
            "/user/login",
            get(pages::login::form).post(pages::login::submit),
        )
        .route("/user/logout", post(pages::login::logout))
        .route(
            "/organization",
            get(pages::organizations::list).post(pages::organizations::create),
        )
        .route("/organization/switch", post(pages::organizations::switch))
        .route(
            "/organization/{id}/rename",
            post(pages::organizations::rename),
        )
        .route(
            "/organization/{id}/enable",
            post(pages::organizations::enable),
        )
        .route(
            "/organization/{id}/disable",
            post(pages::organizations::disable),
        )
        .route(
            "/organization/{id}/delete",
            post(pages::organizations::delete),
        )
        .route(
            "/user/reset-request",
            get(pages::password_reset::request_form).post(pages::password_reset::request_submit),
        )
        .route(
            "/user/reset/{token}",
            get(pages::password_reset::reset_form).post(pages::password_reset::reset_submit),
        )
        .merge(oauth_pages());

    Router::new()
        .route("/", get(|| async { Redirect::to("/admin/user") }))
        .nest("/admin", admin)
        .nest("/api", api::router())
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/oauth2-token", post(oauth_token::token))
        .route("/api/oauth/whoami", get(bearer::whoami))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(session_layer)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

/// OAuth applications: a user's section actions and System > User Management > OAuth
/// Applications (under `/admin`).
fn oauth_pages() -> Router<AppState> {
    use pages::oauth_apps as o;
    Router::new()
        .route(
            "/user/{id}/oauth-app/create",
            get(o::create_form).post(o::create),
        )
        .route("/oauth-applications", get(o::list))
        .route(
            "/oauth-applications/{id}/update",
            get(o::edit_form).post(o::update),
        )
        .route("/oauth-applications/{id}/activate", post(o::activate))
        .route(
            "/oauth-applications/{id}/deactivate",
            get(o::deactivate_confirm).post(o::deactivate),
        )
        .route(
            "/oauth-applications/{id}/delete",
            get(o::delete_confirm).post(o::delete),
        )
        .route(
            "/oauth-applications/{id}/regenerate",
            get(o::regenerate_confirm).post(o::regenerate),
        )
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

// The stylesheet and script are compiled into the binary, so it serves them from any
// working directory and nothing is loaded from another host.
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}
