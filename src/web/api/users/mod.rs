//! The JSON:API `users` resource: `/api/users` and `/api/users/{id}`. The list is built on
//! the grid's query model (`UserFilter`, `SortColumn`), and every change goes through the
//! same rules as the back-office pages (`users`, `users::lifecycle`).
//!
//! Who sees what: only members of the caller's organization exist here. An administrator
//! manages them; anyone else sees and updates only themselves.

mod document;
mod query;
mod resource;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Map;

use self::document::{Target, read_document};
pub use self::query::{INCLUDE, TOTAL_COUNT};
use self::query::{page_link, parse_query, wants_total_count};
use self::resource::{Collection, CollectionMeta, JSONAPI, resource, single};
use super::JsonApiBody;
use super::caller::ApiCaller;
use super::errors::{ApiError, document};
use crate::domain::{FieldError, PlainPassword, Profile, ProfileInput, UserId};
use crate::error::AppError;
use crate::state::AppState;
use crate::users::UserSummary;
use crate::users::{self as rules, lifecycle};

pub const TYPE: &str = "users";
pub const DEFAULT_PAGE_SIZE: u32 = 10;
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longest filter value accepted, as in the grid.
const MAX_FILTER_LEN: usize = 255;

/// Attributes a client may send, each with the rules' field name it feeds (error pointers
/// are found through it).
pub const WRITABLE: [(&str, &str); 11] = [
    ("username", "username"),
    ("email", "email"),
    ("namePrefix", "name_prefix"),
    ("firstName", "first_name"),
    ("middleName", "middle_name"),
    ("lastName", "last_name"),
    ("nameSuffix", "name_suffix"),
    ("birthday", "birthday"),
    ("phone", "phone"),
    ("enabled", "enabled"),
    ("password", "password"),
];
pub const READ_ONLY: [&str; 5] = [
    "authStatus",
    "lastLogin",
    "loginCount",
    "createdAt",
    "updatedAt",
];

fn all_attributes() -> impl Iterator<Item = &'static str> {
    WRITABLE
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| *a != "password")
        .chain(READ_ONLY)
}

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request(detail)
}

/// RFC 6901 escaping of one pointer segment.
fn segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn pointer_for(field: &str) -> String {
    WRITABLE
        .iter()
        .find(|(_, f)| *f == field)
        .map_or_else(|| "/data".into(), |(a, _)| format!("/data/attributes/{a}"))
}

/// Rules' errors for this resource: field errors point at their attribute.
fn from_rules(e: AppError) -> ApiError {
    match e {
        AppError::Validation(errs) => ApiError::validation(&errs, pointer_for),
        other => other.into(),
    }
}

fn self_link(state: &AppState, id: UserId) -> String {
    state.settings.public_link(&format!("/api/users/{id}"))
}

/// A non-number id names no resource.
fn parse_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse::<UserId>()
        .ok()
        .filter(|id| id.get() > 0)
        .ok_or_else(|| AppError::NotFound.into())
}

/// The user `id` if the caller may see them (the rules decide: themselves, or for an
/// administrator a user they manage) and they belong to the caller's organization.
async fn visible(
    state: &AppState,
    caller: &ApiCaller,
    id: UserId,
) -> Result<UserSummary, ApiError> {
    Ok(rules::get_in(state, &caller.actor, id, caller.organization.id).await?)
}

/// `GET /api/users`
pub async fn list(
    caller: ApiCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut q = parse_query(raw.as_deref(), true)?;
    q.filter.organization = Some(caller.organization.id);
    let limit = i64::from(q.size);
    // One row more than the page says whether a next page exists, without a count.
    let (mut rows, total) = rules::list(
        &state,
        &caller.actor,
        q.filter.clone(),
        &q.sort,
        (limit + 1, i64::from(q.page - 1) * limit),
        wants_total_count(&headers),
    )
    .await?;
    let has_next = rows.len() > q.size as usize;
    rows.truncate(q.size as usize);
    let mut links = Map::new();
    links.insert("self".into(), page_link(&state, &q, q.page).into());
    links.insert("first".into(), page_link(&state, &q, 1).into());
    if let Some(total) = total {
        let last = u32::try_from((total + limit - 1) / limit)
            .unwrap_or(u32::MAX)
            .max(1);
        links.insert("last".into(), page_link(&state, &q, last).into());
    }
    if q.page > 1 {
        links.insert("prev".into(), page_link(&state, &q, q.page - 1).into());
    }
    if has_next {
        links.insert("next".into(), page_link(&state, &q, q.page + 1).into());
    }
    let mut response_headers = HeaderMap::new();
    if let Some(total) = total {
        response_headers.insert(TOTAL_COUNT, HeaderValue::from(total));
    }
    let body = Collection {
        data: rows
            .iter()
            .map(|u| resource(&state, u, q.fields.as_deref()))
            .collect(),
        links,
        jsonapi: JSONAPI,
        meta: total.map(|total_count| CollectionMeta { total_count }),
    };
    Ok((response_headers, document(StatusCode::OK, &body)).into_response())
}

/// `GET /api/users/{id}`
pub async fn show(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = parse_query(raw.as_deref(), false)?;
    let user = visible(&state, &caller, parse_id(&id)?).await?;
    Ok(document(
        StatusCode::OK,
        &single(&state, &user, q.fields.as_deref()),
    ))
}

/// `POST /api/users`: an administrator creates a member of their organization, with the
/// User role; disabled unless `enabled` is sent (as Oro does).
pub async fn create(
    caller: ApiCaller,
    State(state): State<AppState>,
    JsonApiBody(doc): JsonApiBody,
) -> Result<Response, ApiError> {
    if !caller.is_admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Only administrators can create users.",
        ));
    }
    let changes = read_document(&doc, &Target::Create, ProfileInput::default())?;
    let password = PlainPassword::new(changes.password.unwrap_or_default());
    let mut errors: Vec<FieldError> = Vec::new();
    let profile = Profile::parse(&changes.profile, state.clock.today())
        .map_err(|e| errors.extend(e))
        .ok();
    if let Err(e) = state
        .settings
        .security
        .password
        .check("password", &password)
    {
        errors.push(e);
    }
    let (Some(profile), true) = (profile, errors.is_empty()) else {
        return Err(ApiError::validation(&errors, pointer_for));
    };
    let input = rules::NewUserInput {
        profile,
        password,
        enabled: changes.enabled.unwrap_or(false),
        roles: vec![rules::USER_ROLE_ID],
        organizations: vec![caller.organization.id],
    };
    let id = rules::create(&state, &caller.actor, input)
        .await
        .map_err(from_rules)?;
    let user = rules::get(&state, &caller.actor, id).await?;
    let mut response = document(StatusCode::CREATED, &single(&state, &user, None));
    if let Ok(v) = self_link(&state, id).parse() {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `PATCH /api/users/{id}`: changes only the attributes sent. `enabled` follows the same
/// rules as the back-office (nobody disables themselves; the last enabled administrator
/// stays), in the same transaction as the rest of the change.
pub async fn update(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonApiBody(doc): JsonApiBody,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let current = visible(&state, &caller, id).await?;
    let changes = read_document(&doc, &Target::Update(id), rules::profile_input(&current))?;
    let profile = Profile::parse(&changes.profile, state.clock.today())
        .map_err(|errs| ApiError::validation(&errs, pointer_for))?;
    let (roles, organizations) = rules::roles_and_organizations(&state, &caller.actor, id).await?;
    let input = rules::UpdateUserInput {
        profile,
        enabled: changes.enabled.unwrap_or(current.enabled),
        roles,
        organizations,
    };
    rules::update(&state, &caller.actor, id, input)
        .await
        .map_err(from_rules)?;
    let user = rules::get(&state, &caller.actor, id).await?;
    Ok(document(StatusCode::OK, &single(&state, &user, None)))
}

/// `DELETE /api/users/{id}`: an administrator only, under the UI's rules (not oneself, not
/// a user who owns records, not the last administrator).
pub async fn delete(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    if !caller.is_admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Only administrators can delete users.",
        ));
    }
    visible(&state, &caller, id).await?;
    lifecycle::delete(&state, &caller.actor, id)
        .await
        .map_err(from_rules)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
