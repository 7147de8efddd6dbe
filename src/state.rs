use std::sync::Arc;

use crate::api_keys::nonces::NonceRecorder;
use crate::clock::Clock;
use crate::config::Settings;
use crate::security::cipher::ApiKeyCipher;
use crate::security::hashing::Hashing;
use crate::security::oauth_keys::OauthKeys;
use crate::store::{Db, StoreResult, Tx, WorkSignal};

/// Everything a request handler or worker needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub hashing: Hashing,
    /// Raised by every commit that queued background work (`begin`): wakes this
    /// process's job runners at once instead of at their next poll.
    pub jobs: WorkSignal,
    /// Seals and opens API keys at rest.
    pub api_key_cipher: ApiKeyCipher,
    /// The OAuth signing keys, loaded lazily and re-checked while running.
    pub oauth_keys: OauthKeys,
    /// Records the WSSE nonces of API requests in the database, in groups.
    pub nonces: NonceRecorder,
    /// A sample of user keys, for choosing what the search indexes look up (`users::probe`).
    pub key_sample: Arc<crate::users::probe::SampleCache>,
}

impl AppState {
    /// Opens a write transaction whose commit wakes the job runners if it queued work.
    pub async fn begin(&self) -> StoreResult<Tx> {
        self.db.begin_signalling(&self.jobs).await
    }
}
