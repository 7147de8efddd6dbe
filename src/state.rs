use std::sync::Arc;

use crate::accounts::api_key_cipher::ApiKeyCipher;
use crate::accounts::hashing::Hashing;
use crate::accounts::oauth_keys::OauthKeys;
use crate::accounts::wsse_nonces::NonceRecorder;
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::OutboxSignal;
use crate::store::Db;

/// Everything a request handler or worker needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub hashing: Hashing,
    pub wakers: crate::jobs::Wakers,
    /// Wakes this process's mail worker after a commit that queued email.
    pub outbox: OutboxSignal,
    /// Seals and opens API keys at rest.
    pub api_key_cipher: ApiKeyCipher,
    /// The OAuth signing keys, loaded lazily and re-checked while running.
    pub oauth_keys: OauthKeys,
    /// Records the WSSE nonces of API requests in the database, in groups.
    pub nonces: NonceRecorder,
    /// A sample of user keys, for choosing what the search indexes look up (`grid::probe`).
    pub key_sample: Arc<crate::grid::probe::SampleCache>,
}
