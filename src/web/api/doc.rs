//! The API's description: OpenAPI 3 at `/api/doc.json` and a page for people at
//! `/api/doc`, whose endpoint list is read from the same description so the two agree.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::users::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use super::wsse;
use crate::domain::query::SortColumn;
use crate::state::AppState;
use crate::web::session::PageCtx;

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/vnd.api+json": { "schema": { "$ref": "#/components/schemas/Errors" } } }
    })
}

fn user_document(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/vnd.api+json": { "schema": { "$ref": "#/components/schemas/UserDocument" } } }
    })
}

fn query_parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// The OpenAPI 3 description of the API served at `base_url`.
pub fn description(base_url: &str) -> Value {
    let sortable: Vec<&str> = SortColumn::ALL.iter().map(|c| c.key()).collect();
    let text = json!({ "type": "string" });
    let optional_text = json!({ "type": "string", "nullable": true });
    let time = json!({ "type": "string", "format": "date-time", "readOnly": true });
    let id_parameter = json!({
        "name": "id", "in": "path", "required": true, "schema": { "type": "string" },
        "description": "The user's id."
    });
    let common_errors = |ok: Value| {
        let mut responses = json!({
            "401": error_response("No, malformed or refused credentials (with WWW-Authenticate)."),
            "403": error_response("Not allowed for this caller."),
            "404": error_response("No such user in the caller's organization."),
        });
        if let (Some(r), Some(extra)) = (responses.as_object_mut(), ok.as_object()) {
            r.extend(extra.clone());
        }
        responses
    };
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Gatehouse API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The users of this Gatehouse as a JSON:API resource. Authenticate every request \
                with a WSSE UsernameToken made from your API key, or with an OAuth 2.0 access token from \
                /oauth2-token (client credentials) as a Bearer token (see /api/doc)."
        },
        "servers": [{ "url": base_url }],
        "security": [{ "wsse": [] }, { "oauth2": [] }],
        "paths": {
            "/api/users": {
                "get": {
                    "summary": "List the users of your organization (administrators; others see only themselves)",
                    "operationId": "listUsers",
                    "parameters": [
                        query_parameter("page[number]", "Page, from 1.", json!({ "type": "integer", "minimum": 1, "default": 1 })),
                        query_parameter("page[size]", "Users per page.", json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE })),
                        query_parameter("sort", &format!("Comma-separated fields, - for descending; one of {}.", sortable.join(", ")), json!({ "type": "string", "example": "-createdAt,username" })),
                        query_parameter("filter[username]", "Exact username (case-insensitive).", text.clone()),
                        query_parameter("filter[email]", "Exact primary email (case-insensitive).", text.clone()),
                        query_parameter("filter[enabled]", "true or false.", json!({ "type": "boolean" })),
                        query_parameter("fields[users]", "Comma-separated attributes to return.", text.clone()),
                        json!({ "name": "X-Include", "in": "header", "required": false, "schema": { "type": "string", "example": "totalCount" },
                            "description": "totalCount: also count every match (meta.totalCount, the X-Include-Total-Count header and a last link). Counting costs more than the page." }),
                    ],
                    "responses": common_errors(json!({
                        "200": {
                            "description": "A page of users; links.next while more follow. With X-Include: totalCount, meta.totalCount and the X-Include-Total-Count header count every match.",
                            "content": { "application/vnd.api+json": { "schema": { "$ref": "#/components/schemas/UserCollection" } } }
                        },
                        "400": error_response("A query parameter is not understood (source.parameter names it).")
                    }))
                },
                "post": {
                    "summary": "Create a user in your organization (administrators)",
                    "operationId": "createUser",
                    "requestBody": {
                        "required": true,
                        "content": { "application/vnd.api+json": { "schema": { "$ref": "#/components/schemas/UserDocument" } } }
                    },
                    "responses": common_errors(json!({
                        "201": user_document("Created; Location names the new user."),
                        "400": error_response("The document is malformed (source.pointer shows where)."),
                        "409": error_response("The resource type is not users."),
                        "415": error_response("The Content-Type is not application/vnd.api+json."),
                        "422": error_response("A value breaks a rule (source.pointer names the attribute).")
                    }))
                }
            },
            "/api/users/{id}": {
                "parameters": [id_parameter],
                "get": {
                    "summary": "Show one user",
                    "operationId": "getUser",
                    "responses": common_errors(json!({ "200": user_document("The user.") }))
                },
                "patch": {
                    "summary": "Change the attributes sent (including enabled; not the password)",
                    "operationId": "updateUser",
                    "requestBody": {
                        "required": true,
                        "content": { "application/vnd.api+json": { "schema": { "$ref": "#/components/schemas/UserDocument" } } }
                    },
                    "responses": common_errors(json!({
                        "200": user_document("The changed user."),
                        "400": error_response("The document is malformed (source.pointer shows where)."),
                        "409": error_response("The type or id does not match."),
                        "415": error_response("The Content-Type is not application/vnd.api+json."),
                        "422": error_response("A value breaks a rule, e.g. disabling yourself.")
                    }))
                },
                "delete": {
                    "summary": "Delete a user (administrators; not yourself, not an owner of records, not the last administrator)",
                    "operationId": "deleteUser",
                    "responses": common_errors(json!({
                        "204": { "description": "Deleted." },
                        "409": error_response("The delete operation is forbidden; detail gives the reason.")
                    }))
                }
            }
        },
        "components": {
            "securitySchemes": {
                "wsse": {
                    "type": "apiKey",
                    "in": "header",
                    "name": wsse::HEADER,
                    "description": "UsernameToken Username=\"...\", PasswordDigest=\"...\", Nonce=\"...\", Created=\"...\" \
                        where PasswordDigest = base64(sha1(base64_decode(Nonce) + Created + apiKey)). Created is an \
                        RFC 3339 time within the server's lifetime; a nonce is accepted once."
                },
                "oauth2": {
                    "type": "oauth2",
                    "description": "Client credentials of an OAuth application: the access token (an RS256 JWT) \
                        acts as the application's owner within the application's organization. Send it as \
                        Authorization: Bearer <token>.",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": format!("{base_url}/oauth2-token"),
                            "scopes": {}
                        }
                    }
                }
            },
            "schemas": {
                "UserAttributes": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "username": text,
                        "email": { "type": "string", "format": "email" },
                        "namePrefix": optional_text,
                        "firstName": optional_text,
                        "middleName": optional_text,
                        "lastName": optional_text,
                        "nameSuffix": optional_text,
                        "birthday": { "type": "string", "format": "date", "nullable": true },
                        "phone": optional_text,
                        "enabled": { "type": "boolean", "description": "Created users are disabled unless this is sent." },
                        "password": { "type": "string", "writeOnly": true, "description": "On create only; the password policy applies." },
                        "authStatus": { "type": "string", "enum": ["active", "locked", "password_reset"], "readOnly": true },
                        "lastLogin": { "type": "string", "format": "date-time", "nullable": true, "readOnly": true },
                        "loginCount": { "type": "integer", "readOnly": true },
                        "createdAt": time,
                        "updatedAt": time
                    }
                },
                "User": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": { "type": "string", "enum": ["users"] },
                        "id": { "type": "string" },
                        "attributes": { "$ref": "#/components/schemas/UserAttributes" },
                        "links": { "type": "object" }
                    }
                },
                "UserDocument": {
                    "type": "object",
                    "required": ["data"],
                    "properties": { "data": { "$ref": "#/components/schemas/User" } }
                },
                "UserCollection": {
                    "type": "object",
                    "properties": {
                        "data": { "type": "array", "items": { "$ref": "#/components/schemas/User" } },
                        "meta": { "type": "object", "properties": { "totalCount": { "type": "integer" } } },
                        "links": { "type": "object" }
                    }
                },
                "Errors": {
                    "type": "object",
                    "properties": {
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "status": { "type": "string" },
                                    "title": { "type": "string" },
                                    "detail": { "type": "string" },
                                    "source": {
                                        "type": "object",
                                        "properties": {
                                            "pointer": { "type": "string" },
                                            "parameter": { "type": "string" },
                                            "header": { "type": "string" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// `GET /api/doc.json`
pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(description(&state.settings.public_link("")))
}

pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "api/doc.html")]
pub struct DocPage {
    pub ctx: PageCtx,
    pub endpoints: Vec<Endpoint>,
    pub example: String,
    pub bearer_example: String,
    pub lifetime: u64,
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every (method, path) the description documents, in its order.
pub fn endpoints(description: &Value) -> Vec<Endpoint> {
    let mut out = Vec::new();
    let Some(paths) = description["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push(Endpoint {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: op["summary"].as_str().unwrap_or_default().to_owned(),
                });
            }
        }
    }
    out
}

/// A shell snippet that computes a WSSE header with openssl and calls the API.
fn curl_example(base: &str, username: &str) -> String {
    format!(
        r#"USERNAME='{username}'
API_KEY='paste the 40-character key from your user page'
NONCE=$(openssl rand -base64 16)
CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
DIGEST=$( (printf '%s' "$NONCE" | openssl base64 -d -A; printf '%s%s' "$CREATED" "$API_KEY") \
  | openssl sha1 -binary | openssl base64 -A)
curl -sS -g -H 'Accept: application/vnd.api+json' \
  -H "X-WSSE: UsernameToken Username=\"$USERNAME\", PasswordDigest=\"$DIGEST\", Nonce=\"$NONCE\", Created=\"$CREATED\"" \
  '{base}/api/users?page[size]=10&sort=-createdAt'"#
    )
}

/// The same call with an OAuth application's client credentials.
fn bearer_example(base: &str) -> String {
    format!(
        r#"CLIENT_ID='the client ID of your OAuth application'
CLIENT_SECRET='the secret shown once when the application was added'
TOKEN=$(curl -sS -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials \
  '{base}/oauth2-token' | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
curl -sS -g -H 'Accept: application/vnd.api+json' -H "Authorization: Bearer $TOKEN" \
  '{base}/api/users?page[size]=10&sort=-createdAt'"#
    )
}

/// `GET /api/doc`
pub async fn page(ctx: PageCtx, State(state): State<AppState>) -> DocPage {
    let username = ctx
        .user
        .as_ref()
        .map_or_else(|| "your-username".to_owned(), |u| u.username.clone());
    DocPage {
        endpoints: endpoints(&description(&state.settings.public_link(""))),
        example: curl_example(&state.settings.public_link(""), &username),
        bearer_example: bearer_example(&state.settings.public_link("")),
        lifetime: state.settings.security.wsse_lifetime,
        ctx,
    }
}

#[cfg(test)]
mod tests {
    use super::super::users::{READ_ONLY, WRITABLE};

    #[test]
    fn the_schema_lists_exactly_the_attributes_the_resource_has() {
        let d = super::description("http://localhost");
        let props = d["components"]["schemas"]["UserAttributes"]["properties"]
            .as_object()
            .unwrap();
        let mut documented: Vec<&str> = props.keys().map(String::as_str).collect();
        let mut actual: Vec<&str> = WRITABLE.iter().map(|(a, _)| *a).chain(READ_ONLY).collect();
        documented.sort_unstable();
        actual.sort_unstable();
        assert_eq!(documented, actual);
    }
}
