//! A user's page (`/admin/user/view/{id}`) and "My User" (`/admin/user/profile/view`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header;

use crate::access::Actor;
use crate::domain::{AuthStatus, UserId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::users::lifecycle;
use crate::users::{self, UserSummary};
use crate::web::input::Query;
use crate::web::pages::UserView;
use crate::web::pages::api_keys::ApiKeyField;
use crate::web::pages::oauth::apps::{self as oauth_apps, OauthSection, SectionQuery};
use crate::web::session::{AdminActor, PageCtx, UserActor};

pub struct HistoryEntry {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub ip: String,
}

/// The administrator's buttons on the top right, each present only when it applies.
pub struct AdminButtons {
    pub enable: bool,
    pub disable: bool,
    pub activate: bool,
    /// Change Password applies to enabled users in status Active (as in Oro).
    pub change_password: bool,
    /// Reset Password: anyone but oneself.
    pub reset_password: bool,
    /// Why Delete is not possible now (the button is shown disabled with this reason).
    pub delete_blocked: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "users/view.html")]
pub struct UserPage {
    pub ctx: PageCtx,
    pub user: UserView,
    pub roles: String,
    pub is_self: bool,
    pub viewer_is_admin: bool,
    pub buttons: Option<AdminButtons>,
    pub api_key: ApiKeyField,
    pub history: Vec<HistoryEntry>,
    pub policy: String,
    pub oauth: OauthSection,
}

/// The page shows the user's API key in clear, so no cache may keep it.
type PrivatePage = ([(header::HeaderName, &'static str); 1], UserPage);

pub async fn view(
    AdminActor { user: admin, actor }: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    Query(oauth_q): Query<SectionQuery>,
) -> AppResult<PrivatePage> {
    let user = crate::users::get(&state, &actor, id).await?;
    let is_self = user.id == admin.id;
    let buttons = AdminButtons {
        enable: !user.enabled,
        disable: user.enabled && !is_self,
        activate: user.auth_status == AuthStatus::Locked,
        change_password: user.enabled && user.auth_status == AuthStatus::Active,
        reset_password: !is_self,
        delete_blocked: lifecycle::delete_blocker(&state, &actor, id).await?,
    };
    let oauth = oauth_apps::section(&state, &actor, &user, &ctx, &oauth_q).await?;
    let page = format!("/admin/user/view/{id}");
    render(
        &state,
        ctx,
        user,
        (&admin, &actor),
        Some(buttons),
        page,
        oauth,
    )
    .await
}

pub async fn profile(
    UserActor { user: me, actor }: UserActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(oauth_q): Query<SectionQuery>,
) -> AppResult<PrivatePage> {
    let page = "/admin/user/profile/view".to_owned();
    let oauth = oauth_apps::section(&state, &actor, &me, &ctx, &oauth_q).await?;
    render(&state, ctx, me.clone(), (&me, &actor), None, page, oauth).await
}

async fn render(
    state: &AppState,
    ctx: PageCtx,
    user: UserSummary,
    (viewer, actor): (&UserSummary, &Actor),
    buttons: Option<AdminButtons>,
    page: String,
    oauth: OauthSection,
) -> AppResult<PrivatePage> {
    let (orgs, roles, history) = users::details(state, actor, user.id).await?;
    let roles = roles.join(", ");
    let history = history
        .into_iter()
        .map(|e| HistoryEntry {
            when: crate::clock::display(e.created_at),
            actor: e.actor_name.unwrap_or_else(|| "-".into()),
            action: e.action.label().to_owned(),
            ip: e.ip.unwrap_or_default(),
        })
        .collect();
    let api_key = ApiKeyField::load(state, actor, user.id, ctx.current_org, page).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        UserPage {
            ctx,
            is_self: user.id == viewer.id,
            viewer_is_admin: actor.authority.is_admin(),
            buttons,
            user: UserView::new(&user, &orgs),
            roles,
            api_key,
            history,
            policy: state.settings.security.password.describe(),
            oauth,
        },
    ))
}
