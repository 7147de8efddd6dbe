//! One module per capability, one file per screen (or group of actions) within it.

pub mod api_keys;
pub mod exports;
pub mod oauth;
pub mod organizations;
pub mod passwords;
pub mod users;

use crate::users::UserSummary;

/// A user as the pages show them: every value already turned into display text.
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
    pub enabled: bool,
    pub enabled_label: &'static str,
    pub status_label: &'static str,
    pub last_login: String,
    pub login_count: i64,
    pub created: String,
    pub updated: String,
    pub organizations: String,
}

impl UserView {
    pub fn new(u: &UserSummary, organizations: &[String]) -> Self {
        let display = crate::clock::display;
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
            last_login: u
                .last_login_at
                .map(display)
                .unwrap_or_else(|| "Never".into()),
            login_count: u.login_count,
            created: display(u.created_at),
            updated: display(u.updated_at),
            organizations: organizations.join(", "),
        }
    }
}
