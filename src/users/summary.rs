//! A user as the pages and the API see them: every column but the password hash, which
//! never leaves the rules.

use crate::domain::{AuthStatus, UserId};
use crate::store::users::UserRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name_prefix: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub name_suffix: Option<String>,
    pub birthday: Option<String>,
    pub phone: Option<String>,
    pub enabled: bool,
    pub auth_status: AuthStatus,
    pub last_login_at: Option<i64>,
    pub login_count: i64,
    /// Copied into a session at sign-in; a change ends the user's other sessions.
    pub session_epoch: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub is_admin: bool,
}

impl From<UserRow> for UserSummary {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            name_prefix: u.name_prefix,
            first_name: u.first_name,
            middle_name: u.middle_name,
            last_name: u.last_name,
            name_suffix: u.name_suffix,
            birthday: u.birthday,
            phone: u.phone,
            enabled: u.enabled,
            auth_status: u.auth_status,
            last_login_at: u.last_login_at,
            login_count: u.login_count,
            session_epoch: u.session_epoch,
            created_at: u.created_at,
            updated_at: u.updated_at,
            is_admin: u.is_admin,
        }
    }
}
