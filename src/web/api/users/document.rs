//! Request documents of the `users` resource, read strictly: every problem of shape or
//! type is a 400 (409 for a wrong type or id, as JSON:API asks) pointing at the member,
//! before any rule runs; the rules then judge the values (422).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::{READ_ONLY, TYPE, WRITABLE, all_attributes, bad, segment};
use crate::domain::{ProfileInput, UserId};
use crate::web::api::errors::ApiError;

pub(super) enum Target {
    Create,
    Update(UserId),
}

/// What a request document asks to change: the profile with its attributes applied,
/// and `enabled` and `password` if sent.
pub(super) struct Changes {
    pub(super) profile: ProfileInput,
    pub(super) enabled: Option<bool>,
    pub(super) password: Option<String>,
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
pub(super) fn read_document(
    doc: &Value,
    target: &Target,
    base: ProfileInput,
) -> Result<Changes, ApiError> {
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
