//! The `users` resource as the API writes it: resource objects serialized straight from
//! the user, in single and collection documents.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::{TYPE, self_link};
use crate::state::AppState;
use crate::users::UserSummary;

/// One `users` resource object. Serialized straight from the row: a list is 25 of these per
/// request, and going through `serde_json::Value` (a map per object) was a tenth of the
/// server's CPU under load.
#[derive(Serialize)]
pub(super) struct Resource<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    attributes: Attributes<'a>,
    links: SelfLink,
}

#[derive(Serialize)]
pub(super) struct SelfLink {
    #[serde(rename = "self")]
    this: String,
}

/// The attributes, limited to `fields[users]` when the caller asked for a sparse fieldset.
pub(super) struct Attributes<'a> {
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

pub(super) fn resource<'a>(
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
pub(super) struct JsonApiVersion {
    version: &'static str,
}

pub(super) const JSONAPI: JsonApiVersion = JsonApiVersion { version: "1.1" };

#[derive(Serialize)]
pub(super) struct Single<'a> {
    data: Resource<'a>,
    links: SelfLink,
    jsonapi: JsonApiVersion,
}

pub(super) fn single<'a>(
    state: &AppState,
    u: &'a UserSummary,
    fields: Option<&'a [String]>,
) -> Single<'a> {
    Single {
        data: resource(state, u, fields),
        links: SelfLink {
            this: self_link(state, u.id),
        },
        jsonapi: JSONAPI,
    }
}

#[derive(Serialize)]
pub(super) struct Collection<'a> {
    pub(super) data: Vec<Resource<'a>>,
    pub(super) links: Map<String, Value>,
    pub(super) jsonapi: JsonApiVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) meta: Option<CollectionMeta>,
}

#[derive(Serialize)]
pub(super) struct CollectionMeta {
    #[serde(rename = "totalCount")]
    pub(super) total_count: i64,
}
