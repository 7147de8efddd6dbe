//! System > User Management > Organizations, and the organization switcher in the header.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::OrganizationId;
use crate::error::{AppError, AppResult};
use crate::organizations;
use crate::state::AppState;
use crate::web::input::Form;
use crate::web::pages::users::login::safe_next;
use crate::web::session::{self, AdminActor, CurrentOrg, CurrentUser, FlashKind, PageCtx};

pub struct OrgView {
    pub id: OrganizationId,
    pub name: String,
    pub enabled: bool,
    pub users: i64,
    pub created: String,
    pub current: bool,
    pub is_global: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "organizations/list.html")]
pub struct OrganizationsPage {
    pub ctx: PageCtx,
    pub orgs: Vec<OrgView>,
    /// The viewer manages every organization: they create organizations and grant
    /// global access.
    pub can_create: bool,
}

pub async fn list(
    a: AdminActor,
    CurrentOrg(current): CurrentOrg,
    ctx: PageCtx,
    State(state): State<AppState>,
) -> AppResult<OrganizationsPage> {
    let orgs = organizations::list(&state, &a.actor)
        .await?
        .into_iter()
        .map(|o| OrgView {
            current: o.id == current,
            id: o.id,
            name: o.name,
            enabled: o.enabled,
            users: o.users,
            created: crate::clock::display(o.created_at),
            is_global: o.is_global,
        })
        .collect();
    Ok(OrganizationsPage {
        ctx,
        orgs,
        can_create: a.actor.authority.is_global(),
    })
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

const BACK: &str = "/admin/organization";

pub async fn create(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<NameForm>,
) -> AppResult<Redirect> {
    let r = organizations::create(&state, &a.actor, &f.name).await;
    session::flash_outcome(
        &session,
        r.map(|_| format!("Organization {} created.", f.name.trim())),
        BACK,
    )
    .await
}

pub async fn rename(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<OrganizationId>,
    Form(f): Form<NameForm>,
) -> AppResult<Redirect> {
    let r = organizations::rename(&state, &a.actor, id, &f.name).await;
    session::flash_outcome(
        &session,
        r.map(|()| format!("Organization renamed to {}.", f.name.trim())),
        BACK,
    )
    .await
}

pub async fn enable(
    a: AdminActor,
    CurrentOrg(current): CurrentOrg,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<OrganizationId>,
) -> AppResult<Redirect> {
    set_enabled(&a, current, &state, &session, id, true).await
}

pub async fn disable(
    a: AdminActor,
    CurrentOrg(current): CurrentOrg,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<OrganizationId>,
) -> AppResult<Redirect> {
    set_enabled(&a, current, &state, &session, id, false).await
}

async fn set_enabled(
    a: &AdminActor,
    current: OrganizationId,
    state: &AppState,
    session: &Session,
    id: OrganizationId,
    enabled: bool,
) -> AppResult<Redirect> {
    let r = organizations::set_enabled(state, &a.actor, current, id, enabled).await;
    let done = if enabled { "enabled" } else { "disabled" };
    let r = r.map(|o| format!("Organization {} {done}.", o.name));
    session::flash_outcome(session, r, BACK).await
}

pub async fn delete(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<OrganizationId>,
) -> AppResult<Redirect> {
    let r = organizations::delete(&state, &a.actor, id).await;
    session::flash_outcome(
        &session,
        r.map(|o| format!("Organization {} deleted.", o.name)),
        BACK,
    )
    .await
}

#[derive(Deserialize)]
pub struct GlobalForm {
    #[serde(default)]
    global: String,
}

pub async fn set_global(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<OrganizationId>,
    Form(f): Form<GlobalForm>,
) -> AppResult<Redirect> {
    let global = match f.global.as_str() {
        "1" => true,
        "0" => false,
        other => {
            return Err(AppError::BadRequest(format!(
                "The field \"global\" takes 1 or 0, not {other:?}."
            )));
        }
    };
    let r = organizations::set_global(&state, &a.actor, id, global).await;
    session::flash_outcome(
        &session,
        r.map(|o| {
            if global {
                format!("Organization {} has global access.", o.name)
            } else {
                format!("Organization {} no longer has global access.", o.name)
            }
        }),
        BACK,
    )
    .await
}

#[derive(Deserialize)]
pub struct SwitchForm {
    organization: String,
    #[serde(default, rename = "return")]
    back: String,
}

/// The header's switcher; open to every signed-in user for their own organizations.
pub async fn switch(
    CurrentUser(me): CurrentUser,
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<SwitchForm>,
) -> AppResult<Redirect> {
    let to = f
        .organization
        .parse::<OrganizationId>()
        .map_err(|_| AppError::BadRequest("Choose an organization from the list.".into()))?;
    let name = organizations::switch(&state, me.id, to).await?;
    session::set_current_org(&session, to).await?;
    session::flash(
        &session,
        FlashKind::Success,
        format!("You are now working in {name}."),
    )
    .await?;
    let back = if safe_next(&f.back) {
        f.back
    } else {
        crate::web::pages::users::login::home_for(me.is_admin).to_owned()
    };
    Ok(Redirect::to(&back))
}
