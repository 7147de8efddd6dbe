//! One module per capability, one file per screen (or group of actions) within it.

pub mod api_keys;
pub mod exports;
pub mod oauth;
pub mod organizations;
pub mod passwords;
pub mod users;

use crate::domain::UserId;
use crate::users::UserSummary;

/// A time as a grid column shows it: the date on one line, the full time (in UTC) in its
/// tooltip, and the machine-readable value for `<time datetime>`. Shown in full elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateCell {
    pub short: String,
    pub full: String,
    pub iso: String,
    /// False for "Never": no `<time>` element then.
    pub known: bool,
}

impl DateCell {
    pub fn at(ts: i64) -> Self {
        Self {
            short: crate::clock::short(ts),
            full: crate::clock::display(ts),
            iso: crate::clock::rfc3339(ts),
            known: true,
        }
    }

    pub fn maybe(ts: Option<i64>) -> Self {
        ts.map_or_else(
            || Self {
                short: "Never".into(),
                full: "Never".into(),
                iso: String::new(),
                known: false,
            },
            Self::at,
        )
    }
}

impl std::fmt::Display for DateCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full)
    }
}

/// A user as the pages show them: every value already turned into display text.
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
    pub enabled: bool,
    pub enabled_label: &'static str,
    pub status_label: &'static str,
    pub last_login: DateCell,
    pub login_count: i64,
    pub created: DateCell,
    pub updated: DateCell,
    pub organizations: String,
}

impl UserView {
    pub fn new(u: &UserSummary, organizations: &[String]) -> Self {
        let status = u.auth_status.label();
        let parts: Vec<&str> = [
            &u.name_prefix,
            &u.first_name,
            &u.middle_name,
            &u.last_name,
            &u.name_suffix,
        ]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
        Self {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone().unwrap_or_default(),
            last_name: u.last_name.clone().unwrap_or_default(),
            full_name: if parts.is_empty() {
                u.username.clone()
            } else {
                parts.join(" ")
            },
            enabled: u.enabled,
            enabled_label: if u.enabled { "Enabled" } else { "Disabled" },
            status_label: status,
            last_login: DateCell::maybe(u.last_login_at),
            login_count: u.login_count,
            created: DateCell::at(u.created_at),
            updated: DateCell::at(u.updated_at),
            organizations: organizations.join(", "),
        }
    }
}
