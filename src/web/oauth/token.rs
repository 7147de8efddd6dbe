//! `POST /oauth2-token`: turns a form-encoded or JSON body and HTTP Basic credentials into
//! one `TokenRequest`, runs the client credentials grant, and answers in RFC 6749 JSON.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::oauth::token::{self as oauth_token, TokenError, TokenRequest};
use crate::state::AppState;
use crate::web::client_ip::ClientIp;

pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // RFC 6749 section 5.2: a client that authenticated through the Authorization header
    // gets 401 with a challenge for the scheme.
    let used_header = headers.contains_key(header::AUTHORIZATION);
    let result = match read_request(&headers, &body) {
        Ok(req) => oauth_token::issue(&state, req, &ip.to_string()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => json_response(
            StatusCode::OK,
            &json!({
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "access_token": t.access_token,
            }),
        ),
        Err(e) => error_response(e, used_header),
    }
}

fn read_request(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, TokenError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        // Anything but well-formed Basic is an unsupported authentication method.
        Some(v) => Some(parse_basic(v).ok_or(TokenError::InvalidClient)?),
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    let pairs = if is_json {
        json_pairs(body)?
    } else {
        crate::web::input::pairs(body).map_err(|_| TokenError::InvalidRequest)?
    };
    // A NUL byte or line break in a parameter is a malformed request (RFC 6749 section
    // 5.2), refused before anything is looked up.
    if pairs
        .iter()
        .any(|(k, v)| crate::web::input::clean(k).is_err() || crate::web::input::clean(v).is_err())
    {
        return Err(TokenError::InvalidRequest);
    }
    let mut params = HashMap::new();
    for (k, v) in pairs {
        // RFC 6749 section 3.2: parameters must not be sent more than once.
        if params.insert(k, v).is_some() {
            return Err(TokenError::InvalidRequest);
        }
    }
    Ok(TokenRequest { params, basic })
}

/// `Basic base64(id:secret)`. RFC 6749 section 2.3.1 form-encodes both parts first; our
/// client ids and secrets are letters, digits and `_`, which that encoding leaves as they
/// are, so there is nothing to decode.
fn parse_basic(v: &HeaderValue) -> Option<(String, String)> {
    let (scheme, data) = v.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(data.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    if crate::web::input::clean(id).is_err() || crate::web::input::clean(secret).is_err() {
        return None;
    }
    Some((id.to_owned(), secret.to_owned()))
}

/// OroPlatform also accepts a JSON object with the same parameters.
fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, TokenError> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(TokenError::InvalidRequest);
    };
    map.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(n) => Ok((k, n.to_string())),
            Value::Bool(b) => Ok((k, b.to_string())),
            _ => Err(TokenError::InvalidRequest),
        })
        .collect()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
            // RFC 6749 section 5.1: tokens and their errors must not be cached.
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn error_response(e: TokenError, used_header: bool) -> Response {
    let status = match e {
        TokenError::InvalidClient => StatusCode::UNAUTHORIZED,
        TokenError::InvalidRequest
        | TokenError::UnsupportedGrantType
        | TokenError::InvalidScope => StatusCode::BAD_REQUEST,
        TokenError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        TokenError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        TokenError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
    };
    let mut response = json_response(
        status,
        &json!({"error": e.code(), "error_description": e.description()}),
    );
    if let TokenError::Throttled { retry_after } = e {
        crate::web::errors::retry_after(&mut response, retry_after);
    }
    if e == TokenError::InvalidClient && used_header {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Gatehouse\""),
        );
    }
    response
}
