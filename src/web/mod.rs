//! HTTP only: routes, extractors, and how errors look. No rules and no SQL here.

pub mod api;
pub mod client_ip;
pub mod csrf;
pub mod errors;
pub mod input;
pub mod oauth;
pub mod pages;
pub mod session;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, middleware};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "gatehouse_session";

pub fn session_cookie_name(settings: &crate::config::Settings) -> &'static str {
    // RFC 6265bis section 4.1.3.2: a `__Host-` cookie is only accepted from a secure
    // origin, for the whole host and no domain, so no subdomain can plant or shadow it.
    if settings.cookies_secure() {
        "__Host-gatehouse_session"
    } else {
        SESSION_COOKIE
    }
}

/// Every route, in one table: the router is built from it, and the tests walk it, so a
/// route added here is covered by the input and authorization tests without a list of
/// its own. `(method, path)`; several methods of one path are merged by axum.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:expr;)*) => {
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        fn routes() -> Router<AppState> {
            Router::new()$(.route($path, axum::routing::$method($handler)))*
        }
    };
}

routes! {
    get "/" => || async { Redirect::to("/admin/user") };
    get "/admin" => || async { Redirect::to("/admin/user") };
    get "/admin/" => || async { Redirect::to("/admin/user") };
    get "/admin/user" => pages::users::grid::grid;
    get "/admin/user/" => pages::users::grid::grid;
    get "/admin/user/view/{id}" => pages::users::page::view;
    get "/admin/user/create" => pages::users::forms::create_form;
    post "/admin/user/create" => pages::users::forms::create;
    get "/admin/user/update/{id}" => pages::users::forms::edit_form;
    post "/admin/user/update/{id}" => pages::users::forms::update;
    post "/admin/user/enable/{id}" => pages::users::lifecycle::enable;
    post "/admin/user/disable/{id}" => pages::users::lifecycle::disable;
    post "/admin/user/activate/{id}" => pages::users::lifecycle::activate;
    get "/admin/user/delete/{id}" => pages::users::lifecycle::delete_confirm;
    post "/admin/user/delete/{id}" => pages::users::lifecycle::delete;
    post "/admin/user/mass/{action}" => pages::users::mass::run;
    get "/admin/user/change-password/{id}" => pages::passwords::admin_form;
    post "/admin/user/change-password/{id}" => pages::passwords::admin_change;
    get "/admin/user/profile/change-password" => pages::passwords::own_form;
    post "/admin/user/profile/change-password" => pages::passwords::own_change;
    post "/admin/user/reset-password/{id}" => pages::passwords::reset_one;
    get "/admin/user/suggest-password" => pages::passwords::suggest;
    post "/admin/user/export" => pages::exports::start;
    get "/admin/user/export/{id}/download" => pages::exports::download;
    get "/admin/user/fields" => pages::exports::fields_form;
    post "/admin/user/fields" => pages::exports::save_fields;
    post "/admin/user/views" => pages::users::views::save;
    post "/admin/user/views/{id}/rename" => pages::users::views::rename;
    post "/admin/user/views/{id}/delete" => pages::users::views::delete;
    post "/admin/user/views/{id}/default" => pages::users::views::set_default;
    get "/admin/user/profile/view" => pages::users::page::profile;
    post "/admin/user/apigen/{id}" => pages::api_keys::generate;
    get "/admin/user/login" => pages::users::login::form;
    post "/admin/user/login" => pages::users::login::submit;
    post "/admin/user/logout" => pages::users::login::logout;
    get "/admin/user/reset-request" => pages::passwords::reset::request_form;
    post "/admin/user/reset-request" => pages::passwords::reset::request_submit;
    get "/admin/user/reset/{token}" => pages::passwords::reset::reset_form;
    post "/admin/user/reset/{token}" => pages::passwords::reset::reset_submit;
    get "/admin/organization" => pages::organizations::list;
    post "/admin/organization" => pages::organizations::create;
    post "/admin/organization/switch" => pages::organizations::switch;
    post "/admin/organization/{id}/rename" => pages::organizations::rename;
    post "/admin/organization/{id}/enable" => pages::organizations::enable;
    post "/admin/organization/{id}/disable" => pages::organizations::disable;
    post "/admin/organization/{id}/global" => pages::organizations::set_global;
    post "/admin/organization/{id}/delete" => pages::organizations::delete;
    get "/admin/user/{id}/oauth-app/create" => pages::oauth::apps::create_form;
    post "/admin/user/{id}/oauth-app/create" => pages::oauth::apps::create;
    get "/admin/oauth-applications" => pages::oauth::list::list;
    get "/admin/oauth-applications/{id}/credentials" => pages::oauth::credentials::credentials;
    get "/admin/oauth-applications/{id}/update" => pages::oauth::apps::edit_form;
    post "/admin/oauth-applications/{id}/update" => pages::oauth::apps::update;
    post "/admin/oauth-applications/{id}/activate" => pages::oauth::actions::activate;
    get "/admin/oauth-applications/{id}/deactivate" => pages::oauth::actions::deactivate_confirm;
    post "/admin/oauth-applications/{id}/deactivate" => pages::oauth::actions::deactivate;
    get "/admin/oauth-applications/{id}/delete" => pages::oauth::actions::delete_confirm;
    post "/admin/oauth-applications/{id}/delete" => pages::oauth::actions::delete;
    get "/admin/oauth-applications/{id}/regenerate" => pages::oauth::actions::regenerate_confirm;
    post "/admin/oauth-applications/{id}/regenerate" => pages::oauth::actions::regenerate;
    get "/api/users" => api::users::list;
    post "/api/users" => api::users::create;
    get "/api/users/{id}" => api::users::show;
    patch "/api/users/{id}" => api::users::update;
    delete "/api/users/{id}" => api::users::delete;
    get "/api/doc" => api::doc::page;
    get "/api/doc.json" => api::doc::openapi;
    get "/api/oauth/whoami" => oauth::bearer::whoami;
    post "/oauth2-token" => oauth::token::token;
    get "/static/app.css" => stylesheet;
    get "/static/app.js" => script;
    get "/healthz" => || async { "ok" };
    get "/readyz" => readyz;
}

/// The application's router over `sessions`, the store sessions are kept in (the
/// database's, chosen by `startup`).
pub fn router<S>(state: AppState, sessions: S) -> Router
where
    S: tower_sessions::SessionStore + Clone,
{
    let settings = &state.settings;
    let idle = i64::try_from(settings.security.session_idle_timeout).unwrap_or(i64::MAX);
    // Lax, not Strict: a click on the link in a reset or export email must arrive with the
    // session. Secure whenever the public URL is https.
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(session_cookie_name(settings))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.cookies_secure())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(idle)));
    // RFC 6797: once a browser has seen the site over https, it never tries plain http.
    let hsts = settings.cookies_secure().then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });

    routes()
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(session_layer)
        // Pages and API answers carry a user's data or a CSRF token: no cache keeps them
        // (the static files say otherwise for themselves).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
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
        .layer(tower::util::option_layer(hsts))
        .with_state(state)
}

/// An unknown path: a JSON:API error under `/api`, the HTML page elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api::errors::ApiError::from(AppError::NotFound).into_response()
    } else {
        AppError::NotFound.into_response()
    }
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
