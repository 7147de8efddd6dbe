//! OAuth applications in the back-office: the "OAuth Applications" section of a user's page
//! (and of "My User"), the Add Application form and the one-time credentials, the row
//! actions, and System > User Management > OAuth Applications. Administrators manage
//! everyone's applications, other users their own; the rules check it, not the pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::access::Actor;
use crate::domain::{FieldError, OrganizationId, UserId};
use crate::error::{AppError, AppResult};
use crate::oauth::apps::{self as oauth_apps, AppFilter, AppId, AppInput, AppRow};
use crate::security::oauth_keys::KEYS_MISSING;
use crate::state::AppState;
use crate::users::UserSummary;
use crate::web::input::{Form, Query};
use crate::web::pages::oauth::credentials::{hand_over, owner_page};
use crate::web::pages::users::login::safe_next;
use crate::web::session::{self, FlashKind, PageCtx, UserActor};

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(super) fn choices(
    options: impl IntoIterator<Item = (String, String)>,
    current: &str,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

pub(super) fn status_choices(current: &str) -> Vec<Choice> {
    choices(
        [("", "All"), ("active", "Active"), ("inactive", "Inactive")]
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
        current,
    )
}

pub(super) fn parse_status(s: &str) -> Option<bool> {
    match s {
        "active" => Some(true),
        "inactive" => Some(false),
        _ => None,
    }
}

/// One row of a grid, every value ready to show, every action a link.
pub struct AppView {
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub active_label: &'static str,
    pub organization: String,
    pub owner: String,
    pub owner_href: String,
    pub grant_type: &'static str,
    pub last_used: crate::web::pages::DateCell,
    pub edit_href: String,
    pub activate_href: String,
    pub deactivate_href: String,
    pub delete_href: String,
    pub regenerate_href: String,
}

pub(super) fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl AppView {
    /// `back` is the page the actions return to.
    pub(super) fn new(a: &AppRow, back: &str) -> Self {
        let action = |verb: &str| {
            format!(
                "/admin/oauth-applications/{}/{verb}?return={}",
                a.id,
                encode(back)
            )
        };
        Self {
            name: a.name.clone(),
            client_id: a.client_id.clone(),
            active: a.active,
            active_label: if a.active { "Yes" } else { "No" },
            organization: a.organization_name.clone(),
            owner: a.owner_username.clone(),
            owner_href: format!("/admin/user/view/{}", a.owner_id),
            grant_type: if a.grant_type == "client_credentials" {
                "Client Credentials"
            } else {
                "Other"
            },
            last_used: crate::web::pages::DateCell::maybe(a.last_used_at),
            edit_href: action("update"),
            activate_href: action("activate"),
            deactivate_href: action("deactivate"),
            delete_href: action("delete"),
            regenerate_href: action("regenerate"),
        }
    }
}

/// The Add Application and Edit OAuth Application fields, with what was entered and the
/// errors beside each field. `organizations` is empty when there is nothing to choose.
pub struct AppForm {
    pub action: String,
    pub organizations: Vec<Choice>,
    pub name: String,
    pub active: bool,
    pub errors: Vec<FieldError>,
}

impl AppForm {
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn for_new(
        owner: UserId,
        orgs: &[(OrganizationId, String)],
        selected: Option<OrganizationId>,
    ) -> Self {
        let selected = selected.map(|s| s.to_string()).unwrap_or_default();
        Self {
            action: format!("/admin/user/{owner}/oauth-app/create"),
            organizations: if orgs.len() > 1 {
                choices(
                    orgs.iter().map(|(id, n)| (id.to_string(), n.clone())),
                    &selected,
                )
            } else {
                Vec::new()
            },
            name: String::new(),
            active: true,
            errors: Vec::new(),
        }
    }
}

/// The filters of the user page's section (prefixed: the page may get other parameters).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SectionQuery {
    pub oauth_name: String,
    pub oauth_org: String,
    pub oauth_status: String,
}

/// One user's applications fit on their page; the global list pages through everyone's.
const SECTION_ROWS: i64 = 500;

/// The "OAuth Applications" section of a user's page.
pub struct OauthSection {
    pub keys_ok: bool,
    pub keys_message: &'static str,
    pub add: AppForm,
    pub filter_action: String,
    pub name: String,
    pub org_choices: Vec<Choice>,
    pub status_choices: Vec<Choice>,
    pub has_filters: bool,
    pub show_org: bool,
    pub rows: Vec<AppView>,
}

/// Builds the section for `owner`'s page as `actor` sees it.
pub async fn section(
    state: &AppState,
    actor: &Actor,
    owner: &UserSummary,
    ctx: &PageCtx,
    q: &SectionQuery,
) -> AppResult<OauthSection> {
    let memberships = crate::organizations::memberships(state, owner.id).await?;
    let workable = crate::organizations::workable_of(&memberships);
    let filter = AppFilter {
        owner: Some(owner.id),
        name_like: oauth_apps::name_pattern(&q.oauth_name),
        organization: q.oauth_org.parse().ok(),
        active: parse_status(&q.oauth_status),
        ..AppFilter::default()
    };
    let (apps, _) = oauth_apps::list(state, actor, filter, SECTION_ROWS, 0).await?;
    let path = ctx.here.split('?').next().unwrap_or_default().to_owned();
    let show_org = memberships.len() > 1
        || apps
            .iter()
            .any(|a| a.organization_id != apps[0].organization_id);
    let current = ctx
        .current_org
        .filter(|c| workable.iter().any(|(id, _)| id == c));
    Ok(OauthSection {
        keys_ok: state.oauth_keys.available(),
        keys_message: KEYS_MISSING,
        add: AppForm::for_new(owner.id, &workable, current),
        rows: apps.iter().map(|a| AppView::new(a, &ctx.here)).collect(),
        filter_action: path,
        name: q.oauth_name.clone(),
        org_choices: choices(
            std::iter::once((String::new(), "All".to_owned())).chain(
                memberships
                    .iter()
                    .map(|m| (m.id.to_string(), m.name.clone())),
            ),
            &q.oauth_org,
        ),
        status_choices: status_choices(&q.oauth_status),
        has_filters: !(q.oauth_name.is_empty()
            && q.oauth_org.is_empty()
            && q.oauth_status.is_empty()),
        show_org,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "oauth/form.html")]
pub struct AppFormPage {
    pub ctx: PageCtx,
    pub title: &'static str,
    pub submit: &'static str,
    pub back: String,
    pub form: AppForm,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Back {
    #[serde(rename = "return")]
    back: String,
}

impl Back {
    /// The page the action came from if it is on this site, else the owner's page.
    pub(super) fn or_owner(self, caller: &UserActor, owner: UserId) -> String {
        if safe_next(&self.back) {
            self.back
        } else {
            owner_page(caller, owner)
        }
    }
}

/// The posted Add Application / Edit fields; all optional so a bad form is a field error,
/// not a rejection.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppFields {
    name: String,
    active: Option<String>,
    organization: Option<String>,
}

/// Add Application without JavaScript (the dialog posts the same form).
pub async fn create_form(
    u: UserActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(owner): Path<UserId>,
) -> AppResult<AppFormPage> {
    let orgs = oauth_apps::new_app_organizations(&state, &u.actor, owner).await?;
    let current = ctx
        .current_org
        .filter(|c| orgs.iter().any(|(id, _)| id == c));
    Ok(AppFormPage {
        ctx,
        title: "Add Application",
        submit: "Create",
        back: owner_page(&u, owner),
        form: AppForm::for_new(owner, &orgs, current),
    })
}

pub async fn create(
    u: UserActor,
    ctx: PageCtx,
    session: Session,
    State(state): State<AppState>,
    Path(owner): Path<UserId>,
    Form(f): Form<AppFields>,
) -> AppResult<Response> {
    let organization = match f.organization.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(s.parse::<OrganizationId>().map_err(|_| {
            AppError::from(FieldError::new("organization", "This value is not valid."))
        })?),
    };
    let input = AppInput {
        name: f.name.clone(),
        active: f.active.as_deref() == Some("1"),
        organization,
    };
    match oauth_apps::create(&state, &u.actor, owner, &input).await {
        Ok(c) => {
            let done = owner_page(&u, owner);
            let to = hand_over(&state, &session, u.user.id, "Application Created", &c, done);
            Ok(to.await?.into_response())
        }
        Err(AppError::Validation(errors)) => {
            let orgs = oauth_apps::new_app_organizations(&state, &u.actor, owner).await?;
            let mut form = AppForm::for_new(owner, &orgs, input.organization);
            form.name = input.name;
            form.active = input.active;
            form.errors = errors;
            let page = AppFormPage {
                ctx,
                title: "Add Application",
                submit: "Create",
                back: owner_page(&u, owner),
                form,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

fn edit_page(ctx: PageCtx, app: &AppRow, back: String, form_back: &str) -> AppFormPage {
    AppFormPage {
        ctx,
        title: "Edit OAuth Application",
        submit: "Save",
        back,
        form: AppForm {
            action: format!(
                "/admin/oauth-applications/{}/update?return={}",
                app.id,
                encode(form_back)
            ),
            organizations: Vec::new(),
            name: app.name.clone(),
            active: app.active,
            errors: Vec::new(),
        },
    }
}

pub async fn edit_form(
    u: UserActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<AppFormPage> {
    let app = oauth_apps::find(&state, &u.actor, id).await?;
    let back = back.or_owner(&u, app.owner_id);
    Ok(edit_page(ctx, &app, back.clone(), &back))
}

pub async fn update(
    u: UserActor,
    ctx: PageCtx,
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
    Form(f): Form<AppFields>,
) -> AppResult<Response> {
    let active = f.active.as_deref() == Some("1");
    match oauth_apps::update(&state, &u.actor, id, &f.name, active).await {
        Ok(app) => {
            session::flash(&session, FlashKind::Success, "Saved successfully").await?;
            Ok(Redirect::to(&back.or_owner(&u, app.owner_id)).into_response())
        }
        Err(AppError::Validation(errors)) => {
            let app = oauth_apps::find(&state, &u.actor, id).await?;
            let back = back.or_owner(&u, app.owner_id);
            let mut page = edit_page(ctx, &app, back.clone(), &back);
            page.form.name = f.name;
            page.form.active = active;
            page.form.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
