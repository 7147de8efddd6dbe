//! Types parsed once at the edge: after `Username::parse` or `Email::parse` the rules
//! never see a raw string again.

mod api_key;
pub mod audit;
pub mod fields;
mod ids;
pub mod input;
pub mod oauth;
pub mod password;
mod profile;
pub mod query;
mod status;
mod user;

pub use api_key::ApiKey;
pub use ids::{AppId, ExportId, OrganizationId, UserId};
pub use password::{PasswordPolicy, PlainPassword};
pub use profile::{Profile, ProfileInput};

pub use status::{AuthStatus, JobStatus};
pub use user::{Email, PersonName, Username};

/// A validation failure tied to one input field, so forms can show it beside the field
/// and the API can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
