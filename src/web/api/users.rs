//! The JSON:API `users` resource: `/api/users` and `/api/users/{id}`. The list is built on
//! the grid's query model (`UserFilter`, `SortColumn`), and every change goes through the
//! same rules as the back-office pages (`users`, `users::lifecycle`).
//!
//! Who sees what: only members of the caller's organization exist here. An administrator
//! manages them; anyone else sees and updates only themselves.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::JsonApiBody;
use super::caller::ApiCaller;
use super::errors::{ApiError, document};
use crate::domain::query::{SortColumn, TextField, TextFilter, TextOp, UserFilter};
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

/// One `users` resource object. Serialized straight from the row: a list is 25 of these per
/// request, and going through `serde_json::Value` (a map per object) was a tenth of the
/// server's CPU under load.
#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    attributes: Attributes<'a>,
    links: SelfLink,
}

#[derive(Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    this: String,
}

/// The attributes, limited to `fields[users]` when the caller asked for a sparse fieldset.
struct Attributes<'a> {
    user: &'a UserSummary,
    fields: Option<&'a [String]>,
}

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.user;
        let keep = |name: &str| self.fields.is_none_or(|f| f.iter().any(|k| k == name));
        let mut map = s.serialize_map(None)?;
        macro_rules! attribute {
            ($name:literal, $value:expr) => {
                if keep($name) {
                    map.serialize_entry($name, &$value)?;
                }
            };
        }
        attribute!("username", u.username);
        attribute!("email", u.email);
        attribute!("namePrefix", u.name_prefix);
        attribute!("firstName", u.first_name);
        attribute!("middleName", u.middle_name);
        attribute!("lastName", u.last_name);
        attribute!("nameSuffix", u.name_suffix);
        attribute!("birthday", u.birthday);
        attribute!("phone", u.phone);
        attribute!("enabled", u.enabled);
        attribute!("authStatus", u.auth_status.as_str());
        attribute!("lastLogin", u.last_login_at.map(crate::clock::rfc3339));
        attribute!("loginCount", u.login_count);
        attribute!("createdAt", crate::clock::rfc3339(u.created_at));
        attribute!("updatedAt", crate::clock::rfc3339(u.updated_at));
        map.end()
    }
}

fn resource<'a>(
    state: &AppState,
    u: &'a UserSummary,
    fields: Option<&'a [String]>,
) -> Resource<'a> {
    Resource {
        kind: TYPE,
        id: u.id.to_string(),
        attributes: Attributes { user: u, fields },
        links: SelfLink {
            this: self_link(state, u.id),
        },
    }
}

#[derive(Serialize)]
struct JsonApiVersion {
    version: &'static str,
}

const JSONAPI: JsonApiVersion = JsonApiVersion { version: "1.1" };

#[derive(Serialize)]
struct Single<'a> {
    data: Resource<'a>,
    links: SelfLink,
    jsonapi: JsonApiVersion,
}

fn single<'a>(state: &AppState, u: &'a UserSummary, fields: Option<&'a [String]>) -> Single<'a> {
    Single {
        data: resource(state, u, fields),
        links: SelfLink {
            this: self_link(state, u.id),
        },
        jsonapi: JSONAPI,
    }
}

#[derive(Serialize)]
struct Collection<'a> {
    data: Vec<Resource<'a>>,
    links: Map<String, Value>,
    jsonapi: JsonApiVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<CollectionMeta>,
}

#[derive(Serialize)]
struct CollectionMeta {
    #[serde(rename = "totalCount")]
    total_count: i64,
}

/// A non-number id names no resource.
fn parse_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse::<UserId>()
        .ok()
        .filter(|id| *id > 0)
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

/// The validated query string of a request.
#[derive(Debug, Default)]
struct Query {
    filter: UserFilter,
    sort: Vec<(SortColumn, bool)>,
    page: u32,
    size: u32,
    fields: Option<Vec<String>>,
    /// Every parameter but `page[number]`, as sent, for the paging links.
    kept: Vec<(String, String)>,
}

fn all_attributes() -> impl Iterator<Item = &'static str> {
    WRITABLE
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| *a != "password")
        .chain(READ_ONLY)
}

/// Reads the query string. Anything not understood is refused with the parameter named,
/// rather than ignored (a misspelt filter would otherwise return everyone).
fn parse_query(raw: Option<&str>, collection: bool) -> Result<Query, ApiError> {
    let mut q = Query {
        page: 1,
        size: DEFAULT_PAGE_SIZE,
        ..Query::default()
    };
    let pairs = crate::web::input::pairs(raw.unwrap_or("").as_bytes())
        .map_err(|e| bad(e.message()).parameter(e.field))?;
    for (i, (name, value)) in pairs.iter().enumerate() {
        let param = |detail: String| bad(detail).parameter(name.clone());
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(param(format!("{name} is given more than once.")));
        }
        if name != "page[number]" {
            q.kept.push((name.clone(), value.clone()));
        }
        match name.as_str() {
            "fields[users]" => {
                let mut list = Vec::new();
                for f in value.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    if !all_attributes().any(|a| a == f) {
                        return Err(param(format!(
                            "users have no attribute {f:?}; they have: {}.",
                            all_attributes().collect::<Vec<_>>().join(", ")
                        )));
                    }
                    list.push(f.to_owned());
                }
                q.fields = Some(list);
            }
            "include" => {
                return Err(param(
                    "include is not supported: users have no related resources here.".into(),
                ));
            }
            _ if !collection => {
                return Err(param(format!(
                    "Unknown query parameter {name:?}; a single user takes only fields[users]."
                )));
            }
            "page[number]" => {
                q.page = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| {
                        param(format!(
                            "page[number] must be a whole number from 1, not {value:?}."
                        ))
                    })?;
            }
            "page[size]" => {
                q.size = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                    .ok_or_else(|| {
                        param(format!(
                            "page[size] must be a whole number from 1 to {MAX_PAGE_SIZE}, not {value:?}."
                        ))
                    })?;
            }
            "sort" => {
                for key in value.split(',').map(str::trim) {
                    let (field, desc) = match key.strip_prefix('-') {
                        Some(f) => (f, true),
                        None => (key, false),
                    };
                    let column = SortColumn::parse(field).ok_or_else(|| {
                        param(format!(
                            "users cannot be sorted by {field:?}; sortable fields: {} (prefix - for descending).",
                            SortColumn::ALL.map(SortColumn::key).join(", ")
                        ))
                    })?;
                    q.sort.push((column, desc));
                }
            }
            "filter[username]" | "filter[email]" => {
                if value.chars().count() > MAX_FILTER_LEN {
                    return Err(param(format!(
                        "{name} is longer than {MAX_FILTER_LEN} characters."
                    )));
                }
                // An exact (case-insensitive) match, as Oro's API filters by default.
                q.filter.text.push(TextFilter {
                    field: if name == "filter[email]" {
                        TextField::Email
                    } else {
                        TextField::Username
                    },
                    op: TextOp::Is,
                    lookup: Default::default(),
                    value: value.clone(),
                });
            }
            "filter[enabled]" => {
                q.filter.enabled = Some(match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(param(format!(
                            "filter[enabled] takes true or false, not {value:?}."
                        )));
                    }
                });
            }
            _ => {
                return Err(param(format!(
                    "Unknown query parameter {name:?}; users take page[number], page[size], \
                     sort, filter[username], filter[email], filter[enabled] and fields[users]."
                )));
            }
        }
    }
    if q.sort.is_empty() {
        q.sort.push((SortColumn::Username, false));
    }
    Ok(q)
}

fn page_link(state: &AppState, q: &Query, page: u32) -> String {
    let mut pairs = q.kept.clone();
    pairs.push(("page[number]".into(), page.to_string()));
    state.settings.public_link(&format!(
        "/api/users?{}",
        crate::users::grid::encode(&pairs)
    ))
}

/// The request header with which OroPlatform's JSON:API asks for the number of matches
/// (`X-Include: totalCount`, several values separated by `;`), and the response header
/// that carries it. Counting every match is what a list costs most at scale, so, as in
/// Oro, it is done only when asked for.
pub const INCLUDE: &str = "x-include";
pub const TOTAL_COUNT: &str = "x-include-total-count";

fn wants_total_count(headers: &HeaderMap) -> bool {
    headers
        .get_all(INCLUDE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .any(|part| part.trim().eq_ignore_ascii_case("totalCount"))
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

enum Target {
    Create,
    Update(UserId),
}

/// What a request document asks to change: the profile with its attributes applied,
/// and `enabled` and `password` if sent.
struct Changes {
    profile: ProfileInput,
    enabled: Option<bool>,
    password: Option<String>,
}

fn profile_slot<'a>(p: &'a mut ProfileInput, field: &str) -> Option<&'a mut String> {
    Some(match field {
        "username" => &mut p.username,
        "email" => &mut p.email,
        "name_prefix" => &mut p.name_prefix,
        "first_name" => &mut p.first_name,
        "middle_name" => &mut p.middle_name,
        "last_name" => &mut p.last_name,
        "name_suffix" => &mut p.name_suffix,
        "birthday" => &mut p.birthday,
        "phone" => &mut p.phone,
        _ => return None,
    })
}

/// Reads a `users` resource document strictly: every problem of shape or type is a 400
/// (409 for a wrong type or id, as JSON:API asks) pointing at the member, before any rule
/// runs; the rules then judge the values (422).
fn read_document(doc: &Value, target: &Target, base: ProfileInput) -> Result<Changes, ApiError> {
    let root = doc
        .as_object()
        .ok_or_else(|| bad("The request document must be a JSON object.").pointer(""))?;
    if let Some(k) = root
        .keys()
        .find(|k| !matches!(k.as_str(), "data" | "meta" | "jsonapi"))
    {
        return Err(bad(format!(
            "Unknown top-level member {k:?}; a request document has \"data\" (and optionally \"meta\", \"jsonapi\")."
        ))
        .pointer(format!("/{}", segment(k))));
    }
    let data = root
        .get("data")
        .ok_or_else(|| {
            bad("The request document must have a \"data\" member holding a users resource object.")
                .pointer("/data")
        })?
        .as_object()
        .ok_or_else(|| bad("\"data\" must be a resource object.").pointer("/data"))?;
    for k in data.keys() {
        match k.as_str() {
            "type" | "id" | "attributes" | "meta" => {}
            "relationships" => {
                return Err(
                    bad("Relationships of users cannot be changed through this API.")
                        .pointer("/data/relationships"),
                );
            }
            other => {
                return Err(bad(format!(
                    "Unknown member {other:?} in the resource object; it has type, id and attributes."
                ))
                .pointer(format!("/data/{}", segment(other))));
            }
        }
    }
    match data.get("type") {
        Some(Value::String(t)) if t == TYPE => {}
        Some(Value::String(t)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("This endpoint takes resources of type \"users\", not {t:?}."),
            )
            .pointer("/data/type"));
        }
        _ => {
            return Err(bad("\"type\" is required and must be \"users\".").pointer("/data/type"));
        }
    }
    match (target, data.get("id")) {
        (Target::Create, None) => {}
        (Target::Create, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Ids are assigned by the server: leave \"id\" out when creating a user.",
            )
            .pointer("/data/id"));
        }
        (Target::Update(id), Some(Value::String(s))) if *s == id.to_string() => {}
        (Target::Update(id), Some(Value::String(s))) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("The id in the document ({s:?}) is not the id in the URL (\"{id}\")."),
            )
            .pointer("/data/id"));
        }
        (Target::Update(_), _) => {
            return Err(
                bad("\"id\" is required, as a string, and must match the URL.").pointer("/data/id"),
            );
        }
    }
    let empty = Map::new();
    let attributes = match data.get("attributes") {
        None => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(bad("\"attributes\" must be an object.").pointer("/data/attributes"));
        }
    };
    let mut changes = Changes {
        profile: base,
        enabled: None,
        password: None,
    };
    for (name, value) in attributes {
        let ptr = format!("/data/attributes/{}", segment(name));
        let wrong = |what: &str| bad(format!("{name:?} must be {what}.")).pointer(ptr.clone());
        if READ_ONLY.contains(&name.as_str()) {
            return Err(bad(format!("{name:?} is read-only.")).pointer(ptr));
        }
        let Some(&(_, field)) = WRITABLE.iter().find(|(a, _)| a == name) else {
            return Err(bad(format!(
                "Unknown attribute {name:?}; users have: {}.",
                all_attributes().collect::<Vec<_>>().join(", ")
            ))
            .pointer(ptr));
        };
        match (field, value) {
            ("enabled", Value::Bool(b)) => changes.enabled = Some(*b),
            ("enabled", _) => return Err(wrong("true or false")),
            ("password", _) if matches!(target, Target::Update(_)) => {
                return Err(bad(
                    "The password is set only when a user is created; an administrator changes it from the back-office.",
                )
                .pointer(ptr));
            }
            ("password", Value::String(s)) => changes.password = Some(s.clone()),
            ("password", _) => return Err(wrong("a string")),
            (_, Value::String(s)) => {
                if let Some(slot) = profile_slot(&mut changes.profile, field) {
                    s.clone_into(slot);
                }
            }
            // Optional parts may be cleared with null; username and email may not.
            ("username" | "email", _) => return Err(wrong("a string")),
            (_, Value::Null) => {
                if let Some(slot) = profile_slot(&mut changes.profile, field) {
                    slot.clear();
                }
            }
            (_, _) => return Err(wrong("a string or null")),
        }
    }
    Ok(changes)
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
