//! Create User (`/admin/user/create`) and Edit (`/admin/user/update/{id}`): errors beside
//! each field, entered values kept.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::access::Actor;
use crate::domain::{FieldError, OrganizationId, PlainPassword, Profile, ProfileInput, UserId};
use crate::error::{AppError, AppResult};
use crate::organizations;
use crate::state::AppState;
use crate::users::{self, NewUserInput, ROLES, UpdateUserInput};
use crate::web::input::Form;
use crate::web::session::{self, AdminActor, CurrentOrg, FlashKind, PageCtx};

pub struct InputField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub kind: &'static str,
    pub required: bool,
    pub error: Option<String>,
}

pub struct Check {
    pub value: i64,
    pub label: String,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users/form.html")]
pub struct UserFormPage {
    pub ctx: PageCtx,
    pub title: String,
    pub action: String,
    pub cancel: String,
    pub is_create: bool,
    pub inputs: Vec<InputField>,
    pub enabled: bool,
    pub roles: Vec<Check>,
    pub organizations: Vec<Check>,
    pub policy: String,
    pub errors: Vec<FieldError>,
}

impl UserFormPage {
    /// The message for a field, if it has one (used beside each input).
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// The posted form, read from pairs because roles and organizations repeat.
struct Posted {
    profile: ProfileInput,
    enabled: bool,
    roles: Vec<i64>,
    organizations: Vec<OrganizationId>,
    password: String,
}

fn read(fields: &[(String, String)]) -> Result<Posted, AppError> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    fn ids<T: std::str::FromStr>(fields: &[(String, String)], k: &str) -> Result<Vec<T>, AppError> {
        fields
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| {
                v.parse::<T>().map_err(|_| {
                    AppError::BadRequest(format!("{v:?} is not a valid choice for {k}."))
                })
            })
            .collect()
    }
    Ok(Posted {
        profile: ProfileInput {
            username: get("username"),
            email: get("email"),
            name_prefix: get("name_prefix"),
            first_name: get("first_name"),
            middle_name: get("middle_name"),
            last_name: get("last_name"),
            name_suffix: get("name_suffix"),
            birthday: get("birthday"),
            phone: get("phone"),
        },
        enabled: fields.iter().any(|(n, v)| n == "enabled" && v == "1"),
        roles: ids(fields, "roles")?,
        organizations: ids(fields, "organizations")?,
        password: get("password"),
    })
}

async fn page(
    state: &AppState,
    (ctx, actor): (PageCtx, &Actor),
    target: Option<UserId>,
    posted: &Posted,
    errors: Vec<FieldError>,
) -> AppResult<UserFormPage> {
    let orgs = organizations::choices(state, actor).await?;
    Ok(UserFormPage {
        ctx,
        title: if target.is_some() {
            "Edit User".into()
        } else {
            "Create User".into()
        },
        action: target.map_or("/admin/user/create".into(), |id| {
            format!("/admin/user/update/{id}")
        }),
        cancel: target.map_or("/admin/user".into(), |id| format!("/admin/user/view/{id}")),
        is_create: target.is_none(),
        inputs: inputs(&posted.profile, &errors),

        enabled: posted.enabled,
        roles: ROLES
            .iter()
            .map(|(id, label)| Check {
                value: *id,
                label: (*label).into(),
                checked: posted.roles.contains(id),
            })
            .collect(),
        organizations: orgs
            .into_iter()
            .map(|(id, name)| Check {
                value: id.get(),
                label: name,
                checked: posted.organizations.contains(&id),
            })
            .collect(),
        policy: state.settings.security.password.describe(),
        errors,
    })
}

fn invalid(p: UserFormPage) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, p).into_response()
}

pub async fn create_form(
    a: AdminActor,
    CurrentOrg(current): CurrentOrg,
    ctx: PageCtx,
    State(state): State<AppState>,
) -> AppResult<UserFormPage> {
    // A new user starts in the organization the administrator works in, if they manage it.
    let start = organizations::choices(&state, &a.actor)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| *id == current)
        .collect();
    let blank = Posted {
        profile: ProfileInput::default(),
        enabled: true,
        roles: vec![users::USER_ROLE_ID],
        organizations: start,
        password: String::new(),
    };
    page(&state, (ctx, &a.actor), None, &blank, Vec::new()).await
}

pub async fn create(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let posted = read(&fields)?;
    let mut errors = Vec::new();
    let profile = Profile::parse(&posted.profile, state.clock.today())
        .map_err(|e| errors.extend(e))
        .ok();
    if let Err(e) = state
        .settings
        .security
        .password
        .check("password", &PlainPassword::new(posted.password.clone()))
    {
        errors.push(e);
    }
    if posted.roles.is_empty() {
        errors.push(FieldError::new("roles", "Choose at least one role."));
    }
    if posted.organizations.is_empty() {
        errors.push(FieldError::new(
            "organizations",
            "Choose at least one organization.",
        ));
    }
    let (Some(profile), true) = (profile, errors.is_empty()) else {
        return Ok(invalid(
            page(&state, (ctx, &a.actor), None, &posted, errors).await?,
        ));
    };
    let input = NewUserInput {
        profile,
        password: PlainPassword::new(posted.password.clone()),
        enabled: posted.enabled,
        roles: posted.roles.clone(),
        organizations: posted.organizations.clone(),
    };
    match users::create(&state, &a.actor, input).await {
        Ok(id) => {
            session::flash(&session, FlashKind::Success, "User saved.").await?;
            Ok(Redirect::to(&format!("/admin/user/view/{id}")).into_response())
        }
        Err(AppError::Validation(errs)) => Ok(invalid(
            page(&state, (ctx, &a.actor), None, &posted, errs).await?,
        )),
        Err(e) => Err(e),
    }
}

pub async fn edit_form(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<UserId>,
) -> AppResult<UserFormPage> {
    let e = users::editable(&state, &a.actor, id).await?;
    let current = Posted {
        profile: users::profile_input(&e.user),
        enabled: e.user.enabled,
        roles: e.roles,
        organizations: e.organizations,
        password: String::new(),
    };
    page(&state, (ctx, &a.actor), Some(id), &current, Vec::new()).await
}

pub async fn update(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    users::get(&state, &a.actor, id).await?;
    let posted = read(&fields)?;
    let profile = match Profile::parse(&posted.profile, state.clock.today()) {
        Ok(p) => p,
        Err(errs) => {
            return Ok(invalid(
                page(&state, (ctx, &a.actor), Some(id), &posted, errs).await?,
            ));
        }
    };
    let input = UpdateUserInput {
        profile,
        enabled: posted.enabled,
        roles: posted.roles.clone(),
        organizations: posted.organizations.clone(),
    };
    match users::update(&state, &a.actor, id, input).await {
        Ok(()) => {
            session::flash(&session, FlashKind::Success, "User saved.").await?;
            Ok(Redirect::to(&format!("/admin/user/view/{id}")).into_response())
        }
        Err(AppError::Validation(errs)) => Ok(invalid(
            page(&state, (ctx, &a.actor), Some(id), &posted, errs).await?,
        )),
        Err(e) => Err(e),
    }
}

fn inputs(v: &ProfileInput, errors: &[FieldError]) -> Vec<InputField> {
    let field = |name: &'static str,
                 label: &'static str,
                 value: &str,
                 kind: &'static str,
                 required: bool| InputField {
        name,
        label,
        value: value.to_owned(),
        kind,
        required,
        error: errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone()),
    };
    vec![
        field("username", "Username", &v.username, "text", true),
        field("email", "Primary Email", &v.email, "email", true),
        field("name_prefix", "Name prefix", &v.name_prefix, "text", false),
        field("first_name", "First name", &v.first_name, "text", false),
        field("middle_name", "Middle name", &v.middle_name, "text", false),
        field("last_name", "Last name", &v.last_name, "text", false),
        field("name_suffix", "Name suffix", &v.name_suffix, "text", false),
        field("birthday", "Birthday", &v.birthday, "date", false),
        field("phone", "Phone", &v.phone, "tel", false),
    ]
}
