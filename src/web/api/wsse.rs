//! The WSSE scheme: reads the `X-WSSE` UsernameToken strictly and hands it to
//! `api_keys::verify_wsse`. Every failure is a 401 with the WSSE challenge and a
//! detail that says what is wrong with the token, never whether the username exists.

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::errors::ApiError;
use crate::api_keys::{self, ApiIdentity, WsseToken};
use crate::state::AppState;

pub const HEADER: &str = "X-WSSE";

const SHAPE: &str =
    r#"UsernameToken Username="...", PasswordDigest="...", Nonce="...", Created="...""#;
/// Longest nonce accepted (base64 text): nonces are kept in the database for an hour.
const MAX_NONCE_LEN: usize = 128;
const MAX_USERNAME_LEN: usize = 255;

fn malformed(detail: impl Into<String>) -> ApiError {
    ApiError::unauthorized(format!(
        "Malformed {HEADER} header: {} It must look like: {SHAPE}",
        detail.into()
    ))
    .header(HEADER)
}

/// The token in the request, if it carries an `X-WSSE` header.
pub fn token(headers: &HeaderMap) -> Option<Result<WsseToken, ApiError>> {
    headers.get(HEADER).map(parse_header)
}

fn parse_header(value: &HeaderValue) -> Result<WsseToken, ApiError> {
    let text = value
        .to_str()
        .map_err(|_| malformed("it contains characters other than visible ASCII."))?;
    let rest = text
        .trim()
        .strip_prefix("UsernameToken")
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| malformed("it must start with \"UsernameToken \"."))?;
    let mut username = None;
    let mut digest = None;
    let mut nonce = None;
    let mut created = None;
    // Name="value" pairs separated by commas; a value is anything but a double quote (a
    // username may contain commas), so the text is walked rather than split.
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once("=\"")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()))
            .ok_or_else(|| {
                let pair = rest.split(',').next().unwrap_or(rest);
                malformed(format!("{pair:?} is not a Name=\"value\" pair."))
            })?;
        let (value, after) = after
            .split_once('"')
            .ok_or_else(|| malformed(format!("the value of {name} has no closing quote.")))?;
        if value.is_empty() {
            return Err(malformed(format!("{name} is empty.")));
        }
        let slot = match name {
            "Username" => &mut username,
            "PasswordDigest" => &mut digest,
            "Nonce" => &mut nonce,
            "Created" => &mut created,
            other => return Err(malformed(format!("unknown field {other:?}."))),
        };
        if slot.replace(value).is_some() {
            return Err(malformed(format!("{name} appears twice.")));
        }
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if after.is_empty() => after,
            None => {
                return Err(malformed(format!(
                    "a comma must follow the value of {name}."
                )));
            }
        };
    }
    let missing = |n: &str| malformed(format!("{n} is missing."));
    let username = username.ok_or_else(|| missing("Username"))?;
    let digest = digest.ok_or_else(|| missing("PasswordDigest"))?;
    let nonce = nonce.ok_or_else(|| missing("Nonce"))?;
    let created = created.ok_or_else(|| missing("Created"))?;

    if username.chars().count() > MAX_USERNAME_LEN {
        return Err(malformed("Username is too long."));
    }
    let digest: [u8; 20] = STANDARD
        .decode(digest)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| {
            malformed("PasswordDigest must be the base64 of a SHA-1 digest (20 bytes).")
        })?;
    let nonce_bytes = STANDARD
        .decode(nonce)
        .ok()
        .filter(|_| nonce.len() <= MAX_NONCE_LEN)
        .ok_or_else(|| {
            malformed(format!(
                "Nonce must be base64 (at most {MAX_NONCE_LEN} characters)."
            ))
        })?;
    // Oro's wording first, then what would be accepted.
    let created_at = OffsetDateTime::parse(created, &Rfc3339)
        .map_err(|_| {
            ApiError::unauthorized(format!(
                "Incorrectly formatted created: {created:?} is not an ISO 8601 (RFC 3339) time \
                 such as 2026-01-31T12:00:00Z or 2026-01-31T13:00:00+01:00."
            ))
            .header(HEADER)
        })?
        .unix_timestamp();
    Ok(WsseToken {
        username: username.to_owned(),
        digest,
        nonce: nonce.to_owned(),
        nonce_bytes,
        created: created.to_owned(),
        created_at,
    })
}

/// Verifies a token: who it speaks for, or the 401 that says why not.
pub async fn authenticate(
    state: &AppState,
    token: &WsseToken,
    ip: &str,
) -> Result<ApiIdentity, ApiError> {
    match api_keys::verify_wsse(state, token, ip).await? {
        Ok(identity) => Ok(identity),
        Err(refusal) => Err(ApiError::unauthorized(refusal.message()).header(HEADER)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<WsseToken, String> {
        parse_header(&HeaderValue::from_str(s).unwrap()).map_err(|e| e.detail().to_owned())
    }

    const DIGEST: &str = "How0aNFmXTm3q/BUqjEQzduGap4=";

    #[test]
    fn reads_a_well_formed_token_in_any_order() {
        let t = parse(&format!(
            r#"UsernameToken Nonce="YWJj", Username="a,nn", Created="2026-01-01T00:00:00Z", PasswordDigest="{DIGEST}""#
        ))
        .unwrap();
        assert_eq!(t.username, "a,nn");
        assert_eq!(t.nonce_bytes, b"abc");
        assert_eq!(t.created_at, 1_767_225_600);
    }

    #[test]
    fn refuses_what_is_not_a_token_with_the_reason() {
        let ok = format!(
            r#"Username="ann", PasswordDigest="{DIGEST}", Nonce="YWJj", Created="2026-01-01T00:00:00Z""#
        );
        for (header, reason) in [
            (ok.clone(), "start with"),
            (format!("UsernameToken {ok}, Extra=\"1\""), "unknown field"),
            (
                format!("UsernameToken {ok}, Nonce=\"YWJj\""),
                "Nonce appears twice",
            ),
            (
                format!("UsernameToken {}", ok.replace(r#", Nonce="YWJj""#, "")),
                "Nonce is missing",
            ),
            (
                format!("UsernameToken {}", ok.replace(DIGEST, "abc")),
                "SHA-1",
            ),
            (
                format!("UsernameToken {}", ok.replace("YWJj", "%%%")),
                "Nonce must be base64",
            ),
            (
                format!(
                    "UsernameToken {}",
                    ok.replace("2026-01-01T00:00:00Z", "yesterday")
                ),
                "Incorrectly formatted created",
            ),
            (
                format!("UsernameToken {}", ok.replace("\"ann\"", "ann")),
                "not a Name=\"value\" pair",
            ),
            (
                format!("UsernameToken {}", ok.replace(", ", " ")),
                "a comma must follow",
            ),
        ] {
            let err = parse(&header).unwrap_err();
            assert!(err.contains(reason), "{header}: {err}");
        }
    }
}
