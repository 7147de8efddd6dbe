//! The client credentials grant (RFC 6749 section 4.4): oxide-auth-async's
//! `ClientCredentialsFlow` validates the request and drives a database-backed registrar and
//! a JWT issuer. What oxide-auth answers by itself is not what clients get: `expires_in` comes
//! from `oauth.access_token_ttl`, `token_type` is "Bearer", and every refusal is mapped here
//! to an RFC 6749 section 5.2 error (oxide-auth turns some of them into 500s).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oxide_auth::endpoint::{
    OAuthError, OwnerConsent, PreGrant, Scope, Scopes, Solicitation, Template,
};
use oxide_auth::frontends::simple::request::{Body, NoError, Request, Response, Status};
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::issuer::{IssuedToken, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, RegisteredUrl, RegistrarError};
use oxide_auth_async::endpoint::client_credentials::ClientCredentialsFlow;
use oxide_auth_async::endpoint::{Endpoint, OwnerSolicitor};
use oxide_auth_async::primitives::{Authorizer, Issuer, Registrar};
use serde::{Deserialize, Serialize};

use crate::access::throttle::{Attempt, Gate};
use crate::domain::oauth::secret_matches;
use crate::domain::{OrganizationId, UserId};
use crate::error::AppError;
use crate::security::oauth_keys::SigningKeys;
use crate::state::AppState;
use crate::store::oauth::{self as oauth_apps, ClientRow};

/// A token request as the HTTP layer read it: the body parameters (from a form or a JSON
/// object, each at most once) and the HTTP Basic credentials, already decoded.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub params: HashMap<String, String>,
    pub basic: Option<(String, String)>,
}

impl TokenRequest {
    /// The client id the request names, from Basic or the body.
    fn client_id(&self) -> &str {
        self.basic
            .as_ref()
            .map(|(id, _)| id.as_str())
            .or_else(|| self.params.get("client_id").map(String::as_str))
            .unwrap_or("")
    }

    /// Whether the client tried to authenticate at all (one complete set of credentials).
    fn offers_credentials(&self) -> bool {
        self.basic.is_some()
            || (self.params.contains_key("client_id") && self.params.contains_key("client_secret"))
    }
}

/// What the endpoint answers on success.
#[derive(Debug)]
pub struct AccessToken {
    pub access_token: String,
    pub expires_in: u64,
}

/// RFC 6749 section 5.2 errors, plus the two of section 4.1.2.1 that fit a server-side
/// failure (there is no standard code for them at the token endpoint; clients treat them
/// as retryable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest,
    InvalidClient,
    UnsupportedGrantType,
    InvalidScope,
    /// The key pair is missing or unusable.
    TemporarilyUnavailable,
    ServerError,
    /// Too many failed client authentications from this address or for this client id:
    /// answered 429 with `Retry-After` (RFC 6749 has no code of its own for it).
    Throttled {
        retry_after: u64,
    },
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::TemporarilyUnavailable | Self::Throttled { .. } => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::InvalidRequest => {
                "The request is missing a required parameter, repeats a parameter or credentials, or is malformed."
            }
            Self::InvalidClient => "Client authentication failed.",
            Self::UnsupportedGrantType => "Only the client_credentials grant type is supported.",
            Self::InvalidScope => "The requested scope is invalid.",
            Self::TemporarilyUnavailable => {
                "OAuth authorization is not available: the signing keys are not configured."
            }
            Self::ServerError => "The server could not issue a token. Please try again later.",
            Self::Throttled { .. } => {
                "Too many failed client authentications from this address or for this client; try again later."
            }
        }
    }
}

/// The claims of a Gatehouse access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The client id, as OroPlatform puts it.
    pub sub: String,
    pub aud: String,
    /// The owner's user id: API calls act as this user...
    pub uid: UserId,
    /// ...within this organization.
    pub org: OrganizationId,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub scopes: Vec<String>,
}

/// Whether a client may be used now. Shared by the token endpoint and the bearer check, so
/// a token stops working as soon as its client could no longer get one.
pub(crate) fn client_allowed(c: &ClientRow) -> bool {
    c.active
        && crate::users::login::standing(c.owner_enabled, c.owner_status).is_ok()
        && c.organization_enabled
        && c.owner_member
}

/// What the flow's parts learn and hand on: the client checked by the registrar, the token
/// the issuer signed.
#[derive(Default)]
struct Exchange {
    client: Option<ClientRow>,
    token: Option<String>,
}

type Shared = Arc<Mutex<Exchange>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Exchange> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

struct DbRegistrar {
    state: AppState,
    shared: Shared,
}

#[async_trait]
impl Registrar for DbRegistrar {
    async fn bound_redirect<'a>(
        &self,
        bound: ClientUrl<'a>,
    ) -> Result<BoundClient<'a>, RegistrarError> {
        // No redirect happens in this grant; oxide-auth still wants a URL.
        Ok(BoundClient {
            client_id: bound.client_id,
            redirect_uri: Cow::Owned(RegisteredUrl::Semantic(
                self.state.settings.server.public_url.clone(),
            )),
        })
    }

    /// Tokens carry no scopes (`scopes: []`), as OroPlatform's do; a requested scope is
    /// ignored, which RFC 6749 section 3.3 allows.
    async fn negotiate<'a>(
        &self,
        client: BoundClient<'a>,
        _scope: Option<Scope>,
    ) -> Result<PreGrant, RegistrarError> {
        Ok(PreGrant {
            client_id: client.client_id.into_owned(),
            redirect_uri: client.redirect_uri.into_owned(),
            scope: "".parse().map_err(|_| RegistrarError::PrimitiveError)?,
        })
    }

    async fn check(
        &self,
        client_id: &str,
        passphrase: Option<&[u8]>,
    ) -> Result<(), RegistrarError> {
        let found = oauth_apps::find_client(&self.state.db, client_id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "token endpoint: client lookup failed");
                RegistrarError::PrimitiveError
            })?;
        let Some(passphrase) = passphrase else {
            return Err(RegistrarError::Unspecified);
        };
        // Unknown client, wrong secret and a client that may not be used now all get the
        // same answer.
        match found {
            Some(c) if secret_matches(&c.secret_hash, passphrase) && client_allowed(&c) => {
                lock(&self.shared).client = Some(c);
                Ok(())
            }
            _ => Err(RegistrarError::Unspecified),
        }
    }
}

struct ClientOwner {
    shared: Shared,
}

#[async_trait]
impl OwnerSolicitor<Request> for ClientOwner {
    /// In this grant the client acts for its owner, who consented by creating it.
    async fn check_consent(
        &mut self,
        _req: &mut Request,
        _solicitation: Solicitation<'_>,
    ) -> OwnerConsent<Response> {
        match &lock(&self.shared).client {
            Some(c) => OwnerConsent::Authorized(c.owner_id.to_string()),
            None => OwnerConsent::Denied,
        }
    }
}

struct JwtIssuer {
    state: AppState,
    keys: Arc<SigningKeys>,
    shared: Shared,
}

impl JwtIssuer {
    fn claims(&self, grant: &Grant) -> Option<AccessClaims> {
        let exchange = lock(&self.shared);
        let client = exchange.client.as_ref()?;
        let now = self.state.clock.now();
        let ttl = i64::try_from(self.state.settings.oauth.access_token_ttl).ok()?;
        let mut jti = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut jti);
        Some(AccessClaims {
            iss: self.state.settings.server.public_url.to_string(),
            sub: grant.client_id.clone(),
            aud: grant.client_id.clone(),
            uid: client.owner_id,
            org: client.organization_id,
            iat: now,
            nbf: now,
            exp: now.checked_add(ttl)?,
            jti: hex::encode(jti),
            scopes: Vec::new(),
        })
    }
}

#[async_trait]
impl Issuer for JwtIssuer {
    // RSA signing takes well under a millisecond of CPU, so it runs on the request's task:
    // moving it to the blocking pool would cost more in hand-offs than it frees.
    async fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let claims = self.claims(&grant).ok_or(())?;
        let token = self.keys.sign(&claims).map_err(|e| {
            tracing::error!(error = %e, "token endpoint: signing failed");
        })?;
        lock(&self.shared).token = Some(token.clone());
        Ok(IssuedToken {
            token,
            refresh: None,
            until: grant.until,
            token_type: TokenType::Bearer,
        })
    }

    async fn refresh(&mut self, _: &str, _: Grant) -> Result<RefreshedToken, ()> {
        Err(())
    }

    async fn recover_token(&mut self, _: &str) -> Result<Option<Grant>, ()> {
        Ok(None)
    }

    async fn recover_refresh(&mut self, _: &str) -> Result<Option<Grant>, ()> {
        Ok(None)
    }
}

struct TokenEndpoint {
    registrar: DbRegistrar,
    solicitor: ClientOwner,
    issuer: JwtIssuer,
}

impl Endpoint<Request> for TokenEndpoint {
    type Error = OAuthError;

    fn registrar(&self) -> Option<&(dyn Registrar + Sync)> {
        Some(&self.registrar)
    }

    fn authorizer_mut(&mut self) -> Option<&mut (dyn Authorizer + Send)> {
        None
    }

    fn issuer_mut(&mut self) -> Option<&mut (dyn Issuer + Send)> {
        Some(&mut self.issuer)
    }

    fn owner_solicitor(&mut self) -> Option<&mut (dyn OwnerSolicitor<Request> + Send)> {
        Some(&mut self.solicitor)
    }

    fn scopes(&mut self) -> Option<&mut dyn Scopes<Request>> {
        None
    }

    fn response(&mut self, _: &mut Request, _: Template) -> Result<Response, OAuthError> {
        Ok(Response::default())
    }

    fn error(&mut self, err: OAuthError) -> OAuthError {
        err
    }

    fn web_error(&mut self, err: NoError) -> OAuthError {
        err.into()
    }
}

/// Runs the client credentials grant for a client at address `ip`; on success the token is
/// signed and the client's `last_used_at` moved on (to within a minute). Failed client
/// authentications are throttled per address and per client id.
pub async fn issue(
    state: &AppState,
    req: TokenRequest,
    ip: &str,
) -> Result<AccessToken, TokenError> {
    let keys = state
        .oauth_keys
        .current()
        .ok_or(TokenError::TemporarilyUnavailable)?;
    let attempt = Attempt::new(Gate::Token, ip, &format!("client:{}", req.client_id()));
    let result = grant(state, req, keys).await;
    if !matches!(result, Err(TokenError::InvalidClient)) {
        return result;
    }
    match attempt.fail(state).await {
        Ok(()) => result,
        Err(AppError::TooManyRequests { retry_after }) => {
            Err(TokenError::Throttled { retry_after })
        }
        Err(e) => {
            tracing::error!(error = %e.describe(), "token endpoint: could not count a failure");
            result
        }
    }
}

async fn grant(
    state: &AppState,
    req: TokenRequest,
    keys: Arc<SigningKeys>,
) -> Result<AccessToken, TokenError> {
    let offers_credentials = req.offers_credentials();
    let shared = Shared::default();
    let endpoint = TokenEndpoint {
        registrar: DbRegistrar {
            state: state.clone(),
            shared: shared.clone(),
        },
        solicitor: ClientOwner {
            shared: shared.clone(),
        },
        issuer: JwtIssuer {
            state: state.clone(),
            keys,
            shared: shared.clone(),
        },
    };
    let mut flow = ClientCredentialsFlow::prepare(endpoint).map_err(|_| TokenError::ServerError)?;
    // OroPlatform's clients send their credentials in the body; RFC 6749 section 2.3.1
    // allows it.
    flow.allow_credentials_in_body(true);
    let request = Request {
        query: HashMap::new(),
        urlbody: req.params,
        auth: req
            .basic
            .map(|(id, secret)| format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))),
    };
    let response = match flow.execute(request).await {
        Ok(r) => r,
        Err(OAuthError::PrimitiveError) => return Err(TokenError::ServerError),
        Err(OAuthError::BadRequest) => return Err(TokenError::InvalidRequest),
        // Raised when the registrar declines a client after authenticating it, which ours
        // never does; still a refusal of the client.
        Err(OAuthError::DenySilently) => return Err(TokenError::InvalidClient),
    };
    match response.status {
        Status::Ok => {}
        Status::Unauthorized => return Err(TokenError::InvalidClient),
        Status::BadRequest => {
            let error = refusal_code(response.body.as_ref());
            return Err(match error.as_deref() {
                Some("unsupported_grant_type") => TokenError::UnsupportedGrantType,
                Some("invalid_scope") => TokenError::InvalidScope,
                // "No client authentication included" is invalid_client (RFC 6749
                // section 5.2); oxide-auth calls it invalid_request.
                _ if !offers_credentials => TokenError::InvalidClient,
                _ => TokenError::InvalidRequest,
            });
        }
        Status::Redirect => return Err(TokenError::ServerError),
    }
    let Exchange { client, token } = std::mem::take(&mut *lock(&shared));
    let (Some(client), Some(access_token)) = (client, token) else {
        return Err(TokenError::ServerError);
    };
    // At most one write per client and minute (`LAST_USED_RESOLUTION`), so a token costs
    // one query, the client lookup. Token issuance itself is not audited: one row per token
    // would drown the log; `last_used_at` is its trace.
    let now = state.clock.now();
    if oauth_apps::last_used_is_stale(client.last_used_at, now)
        && let Err(e) = oauth_apps::touch_last_used(&state.db, client.id, now).await
    {
        tracing::warn!(error = %e, client = %client.client_id, "could not record last use");
    }
    Ok(AccessToken {
        access_token,
        expires_in: state.settings.oauth.access_token_ttl,
    })
}

fn refusal_code(body: Option<&Body>) -> Option<String> {
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
    }
    let body = body?;
    serde_json::from_str::<Refusal>(body.as_str())
        .ok()
        .map(|r| r.error)
}
