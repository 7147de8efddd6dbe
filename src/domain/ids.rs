//! Row ids as types of their own, so a user's id cannot be passed where an organization's
//! or an application's is expected: they meet in memberships, ownership checks, audit
//! targets and the API's relationships, all plain integers in the database.

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )+};
}

id_type! {
    /// A row of `users`.
    UserId;
    /// A row of `organizations`.
    OrganizationId;
    /// A row of `oauth_applications`.
    AppId;
    /// A row of `export_jobs`.
    ExportId;
}

use super::audit::{Target, TargetId};

impl TargetId for UserId {
    const TARGET: Target = Target::User;
}
impl TargetId for OrganizationId {
    const TARGET: Target = Target::Organization;
}
impl TargetId for AppId {
    const TARGET: Target = Target::OauthApplication;
}
impl TargetId for ExportId {
    const TARGET: Target = Target::Export;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_stored_and_serialized_form() {
        // Sessions and token claims written before ids had types hold plain numbers.
        assert_eq!(serde_json::to_string(&UserId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<OrganizationId>("3").unwrap(),
            OrganizationId(3)
        );
        assert_eq!("42".parse::<AppId>(), Ok(AppId(42)));
        assert!("4x".parse::<ExportId>().is_err());
        assert_eq!(UserId(9).to_string(), "9");
    }

    #[test]
    fn each_id_names_its_kind_of_audit_target() {
        assert_eq!(UserId::TARGET, Target::User);
        assert_eq!(OrganizationId::TARGET, Target::Organization);
        assert_eq!(AppId::TARGET, Target::OauthApplication);
        assert_eq!(ExportId::TARGET, Target::Export);
    }
}
