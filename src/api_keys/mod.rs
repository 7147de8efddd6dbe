//! API keys, one per user per organization, and WSSE authentication with them (the
//! UsernameToken profile OroPlatform clients speak).

pub mod nonces;

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::access::Actor;
use crate::access::throttle::{Attempt, Gate};
use crate::domain::audit::AuditAction;
use crate::domain::{ApiKey, OrganizationId, UserId};
use crate::error::{AppError, AppResult};
use crate::security::cipher::Sealed;
use crate::state::AppState;
use crate::store::organizations::OrganizationRow;
use crate::store::{api_keys, audit, nonces as nonce_store, organizations};
use crate::users::login::{LoginRefusal, standing};

/// How far ahead of the server's clock a token's `Created` may be. Oro allows none; a few
/// minutes spare clients with a slightly fast clock, and the nonce store covers the
/// longer window (a nonce is kept until its token expires).
pub const MAX_CLOCK_SKEW: i64 = 300;

/// The organization row when `user` belongs to `org`.
async fn membership(
    state: &AppState,
    user: UserId,
    org: OrganizationId,
) -> AppResult<Option<OrganizationRow>> {
    let member = organizations::of_user(&state.db, user)
        .await?
        .iter()
        .any(|m| m.id == org);
    if !member {
        return Ok(None);
    }
    Ok(organizations::find(&state.db, org).await?)
}

/// A user's key as their page shows it.
#[derive(Debug)]
pub enum StoredKey {
    Missing,
    Key(ApiKey),
    /// A row exists but does not decrypt: the encryption key file was replaced.
    Unreadable,
}

#[derive(Debug)]
pub struct UserKey {
    /// The organization the key belongs to; None when the user belongs to none.
    pub organization: Option<OrganizationRow>,
    pub key: StoredKey,
}

async fn load(state: &AppState, user: UserId, org: &OrganizationRow) -> AppResult<StoredKey> {
    let Some(row) = api_keys::find(&state.db, user, org.id).await? else {
        return Ok(StoredKey::Missing);
    };
    let sealed = Sealed {
        ciphertext: row.key_ciphertext,
        nonce: row.key_nonce,
    };
    Ok(open(state, &sealed, user, org.id))
}

fn open(state: &AppState, sealed: &Sealed, user: UserId, org: OrganizationId) -> StoredKey {
    match state.api_key_cipher.open(sealed, user, org) {
        Some(k) => StoredKey::Key(k),
        None => {
            tracing::warn!(
                user_id = user.get(),
                organization_id = org.get(),
                "an API key does not decrypt with the configured encryption key"
            );
            StoredKey::Unreadable
        }
    }
}

/// The user's key in organization `org` (the viewer's current one, if they have one), if
/// the user belongs to it and the actor may manage them.
pub async fn key_of(
    state: &AppState,
    actor: &Actor,
    user: UserId,
    org: Option<OrganizationId>,
) -> AppResult<UserKey> {
    crate::access::authority::managed_user(state, actor, user).await?;
    let found = match org {
        Some(org) => membership(state, user, org).await?,
        None => None,
    };
    let Some(org) = found else {
        return Ok(UserKey {
            organization: None,
            key: StoredKey::Missing,
        });
    };
    let key = load(state, user, &org).await?;
    Ok(UserKey {
        organization: Some(org),
        key,
    })
}

/// Generates a key for the user in the actor's current organization, replacing the
/// previous one, which stops working at once: an administrator for the users they manage,
/// anyone for themselves.
pub async fn generate(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    org: OrganizationId,
) -> AppResult<ApiKey> {
    if actor.user_id != Some(id) && !actor.authority.is_admin() {
        return Err(AppError::Forbidden(
            "You can only generate an API key for yourself.".into(),
        ));
    }
    let user = crate::access::authority::managed_user(state, actor, id)
        .await?
        .user;
    let org = membership(state, id, org).await?.ok_or_else(|| {
        AppError::Conflict(format!(
            "User {} does not belong to the organization you are working in, so no API key can be generated for it.",
            user.username
        ))
    })?;
    let key = ApiKey::generate();
    let sealed = state.api_key_cipher.seal(&key, id, org.id)?;
    let now = state.clock.now();
    let details = serde_json::json!({ "organization": org.name }).to_string();
    let mut tx = state.begin().await?;
    api_keys::replace(&mut tx, id, org.id, &sealed.ciphertext, &sealed.nonce, now).await?;
    audit::record(
        &mut tx,
        &actor.entry(
            AuditAction::ApiKeyGenerated,
            id,
            &user.username,
            Some(&details),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// A parsed `X-WSSE` UsernameToken. `nonce` and `created` keep the text as sent: the
/// digest covers those exact bytes.
#[derive(Debug, Clone)]
pub struct WsseToken {
    pub username: String,
    pub digest: [u8; 20],
    pub nonce: String,
    pub nonce_bytes: Vec<u8>,
    pub created: String,
    /// `created` as Unix seconds.
    pub created_at: i64,
}

/// Why a WSSE token was refused. Until the digest has been verified, every credential
/// problem is `BadCredentials`: whether the username exists is never told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsseRefusal {
    Future,
    Expired,
    NonceReused,
    BadCredentials,
    /// The key is right, but the user may not come in (disabled, locked, reset).
    Account(LoginRefusal),
    OrganizationDisabled,
}

impl WsseRefusal {
    pub fn message(self) -> &'static str {
        match self {
            // Oro's texts for the first three.
            Self::Future => "Future token detected.",
            Self::Expired => "Token has expired.",
            Self::NonceReused => "Previously used nonce detected.",
            Self::BadCredentials => {
                "Invalid WSSE credentials: the username, the API key or the digest is wrong."
            }
            Self::Account(r) => r.message(),
            Self::OrganizationDisabled => "The organization of this API key is disabled.",
        }
    }
}

/// Who a verified credential speaks for: the user, the organization they act in, and
/// what they may manage.
#[derive(Debug, Clone)]
pub struct ApiIdentity {
    pub user: crate::users::UserSummary,
    pub organization: OrganizationRow,
    pub authority: crate::access::Authority,
}

/// base64(sha1(nonce + created + key)), before the base64: the WSSE PasswordDigest.
pub fn wsse_digest(nonce: &[u8], created: &str, key: &str) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(created.as_bytes());
    h.update(key.as_bytes());
    h.finalize().into()
}

/// Checks a token: not from the future, not expired, the digest against the user's key
/// in their current organization (compared in constant time), then the nonce unseen.
/// Oro records the nonce before comparing the digest; here it is recorded only for a
/// correct digest, so a client without a key cannot write to the nonce table, and a
/// replay is refused all the same (a replayed token has a correct digest).
pub async fn verify_wsse(
    state: &AppState,
    token: &WsseToken,
    ip: &str,
) -> AppResult<Result<ApiIdentity, WsseRefusal>> {
    let now = state.clock.now();
    let lifetime = i64::try_from(state.settings.security.wsse_lifetime).unwrap_or(i64::MAX);
    if token.created_at > now + MAX_CLOCK_SKEW {
        return Ok(Err(WsseRefusal::Future));
    }
    if now - token.created_at > lifetime {
        return Ok(Err(WsseRefusal::Expired));
    }

    let login_key = token.username.to_lowercase();
    // One key per organization: the key that matches decides the organization the call
    // acts in. An unknown user is compared against a key nobody has, so every path ends
    // in the same comparison and the same answer.
    let mut candidates = Vec::new();
    let found = api_keys::find_login_with_keys(&state.db, &login_key).await?;
    let (user, keys, memberships) = match found {
        Some(f) => (Some(f.user), f.keys, f.memberships),
        None => (None, Vec::new(), Vec::new()),
    };
    if let Some(user) = &user {
        for k in keys {
            let sealed = Sealed {
                ciphertext: k.key_ciphertext,
                nonce: k.key_nonce,
            };
            if let StoredKey::Key(key) = open(state, &sealed, user.id, k.organization_id) {
                let row = OrganizationRow {
                    id: k.organization_id,
                    name: k.organization_name,
                    enabled: k.organization_enabled,
                    is_global: memberships
                        .iter()
                        .any(|m| m.id == k.organization_id && m.is_global),
                    users: 0,
                    created_at: 0,
                };
                candidates.push((row, key));
            }
        }
    }
    let mut matched = None;
    for (org, key) in candidates
        .iter()
        .map(|(o, k)| (Some(o), k.expose()))
        .chain(std::iter::once((None, "-")))
    {
        let expected = wsse_digest(&token.nonce_bytes, &token.created, key);
        if bool::from(expected.ct_eq(&token.digest)) && org.is_some() && matched.is_none() {
            matched = org.cloned();
        }
    }
    let (Some(user), Some(organization)) = (user, matched) else {
        Attempt::new(Gate::Wsse, ip, &format!("name:{login_key}"))
            .fail(state)
            .await?;
        return Ok(Err(WsseRefusal::BadCredentials));
    };
    // Kept until the token itself expires; after that, `Created` refuses a replay. The
    // database's unique key decides, so two processes given the same token at once cannot
    // both accept it.
    if !state
        .nonces
        .remember(&token.nonce, token.created_at + lifetime, now)
        .await?
    {
        return Ok(Err(WsseRefusal::NonceReused));
    }
    if let Err(r) = standing(user.enabled, user.auth_status) {
        return Ok(Err(WsseRefusal::Account(r)));
    }
    if !organization.enabled {
        return Ok(Err(WsseRefusal::OrganizationDisabled));
    }
    let authority = crate::access::authority::of_user(user.is_admin, &memberships);
    Ok(Ok(ApiIdentity {
        user: user.into(),
        organization,
        authority,
    }))
}

/// Forgets nonces whose tokens have expired (run periodically).
pub async fn purge_nonces(state: &AppState) -> AppResult<u64> {
    Ok(nonce_store::purge_expired(&state.db, state.clock.now()).await?)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn digest_matches_the_wsse_formula() {
        // printf 'abc2026-01-01T00:00:00Zk' | openssl sha1 -binary | base64
        let d = super::wsse_digest(b"abc", "2026-01-01T00:00:00Z", "k");
        assert_eq!(STANDARD.encode(d), "How0aNFmXTm3q/BUqjEQzduGap4=");
    }
}
