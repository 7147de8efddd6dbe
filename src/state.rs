use std::sync::Arc;

use crate::accounts::hashing::Hashing;
use crate::accounts::oauth_keys::OauthKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Db;

/// Everything a request handler or worker needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub hashing: Hashing,
    /// The OAuth signing keys, loaded lazily and re-checked while running.
    pub oauth_keys: OauthKeys,
}
