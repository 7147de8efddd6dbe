//! A user's page (`/admin/user/view/{id}`) and "My User" (`/admin/user/profile/view`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};

use super::UserView;
use super::oauth_apps::{self, OauthSection, SectionQuery};
use crate::accounts::lifecycle;
use crate::domain::AuthStatus;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{audit, users, users::UserRow};
use crate::web::session::{AdminActor, CurrentUser, PageCtx};

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
    pub history: Vec<HistoryEntry>,
    pub oauth: OauthSection,
}

pub async fn view(
    AdminActor { user: admin, actor }: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(oauth_q): Query<SectionQuery>,
) -> AppResult<UserPage> {
    let user = users::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let is_self = user.id == admin.id;
    let buttons = AdminButtons {
        enable: !user.enabled,
        disable: user.enabled && !is_self,
        activate: AuthStatus::parse(&user.auth_status) == Some(AuthStatus::Locked),
        delete_blocked: lifecycle::delete_blocker(&state, &actor, id).await?,
    };
    let oauth = oauth_apps::section(&state, &admin, &user, &ctx, &oauth_q).await?;
    render(&state, ctx, user, &admin, Some(buttons), oauth).await
}

pub async fn profile(
    CurrentUser(me): CurrentUser,
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(oauth_q): Query<SectionQuery>,
) -> AppResult<UserPage> {
    let oauth = oauth_apps::section(&state, &me, &me, &ctx, &oauth_q).await?;
    render(&state, ctx, me.clone(), &me, None, oauth).await
}

async fn render(
    state: &AppState,
    ctx: PageCtx,
    user: UserRow,
    viewer: &UserRow,
    buttons: Option<AdminButtons>,
    oauth: OauthSection,
) -> AppResult<UserPage> {
    let orgs: Vec<String> = users::organization_names(&state.db, &[user.id])
        .await?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let roles = users::role_labels(&state.db, user.id).await?.join(", ");
    let history = audit::recent_for(&state.db, "user", user.id, 20)
        .await?
        .into_iter()
        .map(|e| HistoryEntry {
            when: crate::clock::display(e.created_at),
            actor: e.actor_name.unwrap_or_else(|| "-".into()),
            action: describe_action(&e.action),
            ip: e.ip.unwrap_or_default(),
        })
        .collect();
    Ok(UserPage {
        ctx,
        is_self: user.id == viewer.id,
        viewer_is_admin: viewer.is_admin,
        buttons,
        user: UserView::new(&user, &orgs),
        roles,
        history,
        oauth,
    })
}

fn describe_action(action: &str) -> String {
    match action {
        "user.created" => "User created",
        "user.updated" => "User updated",
        "user.enabled" => "Enabled",
        "user.disabled" => "Disabled",
        "user.activated" => "Activated",
        "user.locked" => "Locked after too many failed login attempts",
        "login.failed" => "Failed login attempt",
        "password.changed" => "Password changed",
        "password.reset_requested" => "Password reset requested",
        "password.reset_completed" => "Password set through a reset link",
        other => other,
    }
    .to_owned()
}
