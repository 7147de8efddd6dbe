//! The rules. Each public function is one use case, run in one transaction, with its audit
//! entry. Web pages, mass actions, the API and the CLI all call these.

pub mod api_key_cipher;
pub mod api_keys;
pub mod bootstrap;
pub mod exports;
pub mod exports_notify;
pub mod hashing;
pub mod lifecycle;
pub mod login;
pub mod oauth_apps;
pub mod oauth_keys;
pub mod oauth_token;
pub mod organizations;
pub mod passwords;
pub mod users;
pub mod views;
pub mod wsse_nonces;

/// Who is acting, for authorization and the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    /// Changes made from the command line or at start-up.
    pub fn system(name: &str) -> Self {
        Self {
            user_id: None,
            name: name.to_owned(),
            ip: None,
        }
    }
}
