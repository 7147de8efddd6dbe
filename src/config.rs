//! Settings: config.yml, overridden by `DATABASE_URL`, then by `GATEHOUSE_SECTION__KEY`.
//! Unknown keys and bad values stop start-up with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Yaml};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::domain::PasswordPolicy;

pub const DEFAULT_CONFIG_PATH: &str = "config.yml";

/// Environment variables with the `GATEHOUSE_` prefix that are not config keys.
const NON_CONFIG_ENV: &[&str] = &[
    "config",
    "bootstrap_admin_password",
    "bootstrap_admin_username",
    "bootstrap_admin_email",
    "log",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub mailer: MailerSettings,
    pub oauth: OauthSettings,
    pub security: SecuritySettings,
    pub export: ExportSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Base of every link in emails; also decides whether cookies are `Secure`.
    pub public_url: Url,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed:
    /// behind them the client's address is the last one they added. Empty: the peer's
    /// address is the client's, whatever the request says.
    pub trusted_proxies: Vec<TrustedProxy>,
}

/// An address or a CIDR range, as written in `server.trusted_proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxy(pub ipnet::IpNet);

impl TryFrom<String> for TrustedProxy {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(TrustedProxy)
            .map_err(|_| format!("{s:?} is neither an IP address nor a CIDR range"))
    }
}

impl From<TrustedProxy> for String {
    fn from(p: TrustedProxy) -> String {
        p.0.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MailerSettings {
    pub dsn: String,
    pub from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OauthSettings {
    pub private_key: PathBuf,
    pub public_key: PathBuf,
    pub access_token_ttl: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// Consecutive failed sign-ins that lock a user (0 turns lock-out off).
    pub max_failed_login_attempts: u32,
    /// Seconds a password reset link stays valid.
    pub password_reset_ttl: u64,
    /// Seconds of inactivity after which a back-office session ends.
    pub session_idle_timeout: u64,
    /// Seconds after sign-in at which a session ends however active it is.
    pub session_lifetime: u64,
    /// File holding the 32-byte key that encrypts API keys at rest (created, mode 0600,
    /// on first start). Losing it voids every API key.
    pub api_key_encryption_key: PathBuf,
    /// Seconds a WSSE token (its `Created` time) stays valid, and its nonce remembered.
    pub wsse_lifetime: u64,
    pub password: PasswordPolicy,
    pub throttle: ThrottleSettings,
}

/// Failed credentials counted per client address and per account, in fixed windows kept
/// in the database (so every instance counts together). Past a limit, that address or
/// account is answered 429 with `Retry-After` until the window ends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleSettings {
    /// Length of a window, seconds.
    pub window: u64,
    /// Failed sign-ins, WSSE requests and token requests from one address per window.
    pub failures_per_address: u32,
    /// Failed sign-ins per account (or client id) per window.
    pub failures_per_account: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window: 900,
            failures_per_address: 50,
            failures_per_account: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ExportSettings {
    pub fields: Vec<String>,
    /// Where export files are written: a directory every Gatehouse process can read.
    pub dir: PathBuf,
    /// Days an export file is kept; its link answers "expired" afterwards.
    pub retention_days: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: Url::parse("http://127.0.0.1:8080/").expect("static URL parses"),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://var/gatehouse.db".into(),
            max_connections: 10,
        }
    }
}

impl Default for MailerSettings {
    fn default() -> Self {
        Self {
            dsn: "file://var/mail".into(),
            from: "Gatehouse <no-reply@localhost>".into(),
        }
    }
}

impl Default for OauthSettings {
    fn default() -> Self {
        Self {
            private_key: "var/oauth_private.key".into(),
            public_key: "var/oauth_public.key".into(),
            access_token_ttl: 3600,
        }
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            max_failed_login_attempts: 10,
            password_reset_ttl: 86_400,
            session_idle_timeout: 8 * 3600,
            session_lifetime: 7 * 86_400,
            api_key_encryption_key: "var/api_key_encryption.key".into(),
            wsse_lifetime: 3600,
            password: PasswordPolicy::default(),
            throttle: ThrottleSettings::default(),
        }
    }
}

/// The user fields the CSV export may contain (`domain::fields::UserField`), by name.
pub const EXPORTABLE_FIELDS: [&str; 19] = {
    let mut names = [""; 19];
    let mut i = 0;
    while i < 19 {
        names[i] = crate::domain::fields::UserField::ALL[i].key();
        i += 1;
    }
    names
};

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            fields: [
                "id",
                "username",
                "email",
                "first_name",
                "last_name",
                "enabled",
                "auth_status",
                "created_at",
                "updated_at",
                "password_hash",
            ]
            .map(String::from)
            .to_vec(),
            dir: "var/exports".into(),
            retention_days: 14,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads settings the way the binary does: the file (the default one may be absent),
    /// then `DATABASE_URL`, then `GATEHOUSE_*` variables.
    pub fn load(explicit_path: Option<&Path>) -> Result<Self, ConfigError> {
        let path = match explicit_path {
            Some(p) if !p.exists() => return Err(ConfigError::Missing(p.to_owned())),
            Some(p) => Some(p.to_owned()),
            None => {
                let from_env = std::env::var_os("GATEHOUSE_CONFIG").map(PathBuf::from);
                match from_env {
                    Some(p) if !p.exists() => return Err(ConfigError::Missing(p)),
                    Some(p) => Some(p),
                    None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|p| p.exists()),
                }
            }
        };

        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = &path {
            figment = figment.merge(Yaml::file_exact(path));
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        figment = figment.merge(
            Env::prefixed("GATEHOUSE_")
                .filter(|k| {
                    !NON_CONFIG_ENV
                        .iter()
                        .any(|n| k.as_str().eq_ignore_ascii_case(n))
                })
                .split("__"),
        );
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe_figment_error(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: URL schemes, known export fields, sane numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: String| Err(ConfigError::Invalid(format!("`{key}`: {msg}")));
        let db = &self.database.url;
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return bad(
                "database.url",
                format!("expected sqlite://PATH or postgres://..., got {db:?}"),
            );
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1".into());
        }
        if !matches!(self.server.public_url.scheme(), "http" | "https") {
            return bad(
                "server.public_url",
                "must be an http:// or https:// URL".into(),
            );
        }
        let dsn = &self.mailer.dsn;
        if !["file://", "smtp://", "smtps://", "null://"]
            .iter()
            .any(|s| dsn.starts_with(s))
        {
            return bad(
                "mailer.dsn",
                format!("expected file://, smtp://, smtps:// or null://, got {dsn:?}"),
            );
        }
        if self.mailer.from.trim().is_empty() {
            return bad("mailer.from", "must not be empty".into());
        }
        if self.oauth.access_token_ttl == 0 {
            return bad("oauth.access_token_ttl", "must be at least 1 second".into());
        }
        if self.security.password_reset_ttl == 0 {
            return bad(
                "security.password_reset_ttl",
                "must be at least 1 second".into(),
            );
        }
        if self.security.session_idle_timeout < 60 {
            return bad(
                "security.session_idle_timeout",
                "must be at least 60 seconds".into(),
            );
        }
        if self.security.session_lifetime < self.security.session_idle_timeout {
            return bad(
                "security.session_lifetime",
                "must be at least `security.session_idle_timeout`".into(),
            );
        }
        let t = &self.security.throttle;
        if !(60..=86_400).contains(&t.window) {
            return bad(
                "security.throttle.window",
                "must be between 60 and 86400 seconds".into(),
            );
        }
        if t.failures_per_address == 0 || t.failures_per_account == 0 {
            return bad(
                "security.throttle",
                "failures_per_address and failures_per_account must be at least 1".into(),
            );
        }
        if self.security.api_key_encryption_key.as_os_str().is_empty() {
            return bad(
                "security.api_key_encryption_key",
                "must be a file path".into(),
            );
        }
        if !(1..=86_400).contains(&self.security.wsse_lifetime) {
            return bad(
                "security.wsse_lifetime",
                "must be between 1 and 86400 seconds".into(),
            );
        }
        if self.security.password.min_length == 0 || self.security.password.min_length > 1024 {
            return bad(
                "security.password.min_length",
                "must be between 1 and 1024".into(),
            );
        }
        if self.export.retention_days == 0 {
            return bad("export.retention_days", "must be at least 1".into());
        }
        if self.export.fields.is_empty() {
            return bad("export.fields", "must list at least one field".into());
        }
        for f in &self.export.fields {
            if !EXPORTABLE_FIELDS.contains(&f.as_str()) {
                return bad(
                    "export.fields",
                    format!(
                        "unknown field {f:?}; known fields: {}",
                        EXPORTABLE_FIELDS.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    pub fn cookies_secure(&self) -> bool {
        self.server.public_url.scheme() == "https"
    }

    /// An absolute link under `server.public_url`.
    pub fn public_link(&self, path_and_query: &str) -> String {
        let base = self.server.public_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

fn describe_figment_error(e: figment::Error) -> String {
    e.into_iter()
        .map(|err| {
            let key = err
                .path
                .iter()
                .filter(|p| *p != "default")
                .cloned()
                .collect::<Vec<_>>()
                .join(".");
            let origin = err
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                format!("{}{origin}", err.kind)
            } else {
                format!("`{key}`: {}{origin}", err.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// config.yml documents the defaults: it says what a start without it would do.
    #[test]
    fn the_shipped_config_is_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.yml");
        let shipped: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Yaml::file_exact(path))
            .extract()
            .expect("config.yml parses");
        assert_eq!(shipped, Settings::default());
        shipped.validate().expect("and is valid");
    }
}
