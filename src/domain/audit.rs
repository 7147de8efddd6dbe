//! The audit log's actions, one catalogue: each with its stored name, the kind of record it
//! is about, and the words a person reads.

/// What an audit entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    User,
    Organization,
    OauthApplication,
    Export,
    Setting,
}

impl Target {
    pub fn key(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Organization => "organization",
            Self::OauthApplication => "oauth_application",
            Self::Export => "export",
            Self::Setting => "setting",
        }
    }
}

/// The id of a record an audit entry can be about: its kind is fixed by its type, so an
/// entry cannot name a user's id as an application's.
pub trait TargetId: Copy + Into<i64> {
    const TARGET: Target;
}

macro_rules! actions {
    ($($variant:ident => $key:literal, $target:ident, $label:literal;)*) => {
        /// An action recorded in the audit log.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            pub const ALL: &[AuditAction] = &[$(Self::$variant,)*];

            /// The name stored in `audit_log.action`.
            pub fn key(self) -> &'static str {
                match self {
                    $(Self::$variant => $key,)*
                }
            }

            pub fn target(self) -> Target {
                match self {
                    $(Self::$variant => Target::$target,)*
                }
            }

            /// What a person reads in a history.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)*
                }
            }
        }
    };
}

actions! {
    UserCreated => "user.created", User, "User created";
    UserUpdated => "user.updated", User, "User updated";
    UserEnabled => "user.enabled", User, "Enabled";
    UserDisabled => "user.disabled", User, "Disabled";
    UserActivated => "user.activated", User, "Activated";
    UserLocked => "user.locked", User, "Locked after too many failed login attempts";
    UserDeleted => "user.deleted", User, "User deleted";
    LoginFailed => "login.failed", User, "Failed login attempt";
    PasswordChanged => "password.changed", User, "Password changed";
    PasswordResetRequested => "password.reset_requested", User, "Password reset requested";
    PasswordResetCompleted => "password.reset_completed", User, "Password set through a reset link";
    ApiKeyGenerated => "api_key.generated", User, "API key generated";
    OauthAppCreated => "oauth_app.created", OauthApplication, "OAuth application added";
    OauthAppUpdated => "oauth_app.updated", OauthApplication, "OAuth application edited";
    OauthAppActivated => "oauth_app.activated", OauthApplication, "OAuth application activated";
    OauthAppDeactivated => "oauth_app.deactivated", OauthApplication, "OAuth application deactivated";
    OauthAppDeleted => "oauth_app.deleted", OauthApplication, "OAuth application deleted";
    OauthAppSecretRegenerated => "oauth_app.secret_regenerated", OauthApplication, "Client secret regenerated";
    OrganizationCreated => "organization.created", Organization, "Organization created";
    OrganizationRenamed => "organization.renamed", Organization, "Organization renamed";
    OrganizationEnabled => "organization.enabled", Organization, "Organization enabled";
    OrganizationDisabled => "organization.disabled", Organization, "Organization disabled";
    OrganizationDeleted => "organization.deleted", Organization, "Organization deleted";
    OrganizationGlobalGranted => "organization.global_granted", Organization, "Global access granted";
    OrganizationGlobalRevoked => "organization.global_revoked", Organization, "Global access revoked";
    ExportRequested => "export.requested", Export, "Export requested";
    ExportFieldsChanged => "export.fields_changed", Setting, "Exported fields changed";
}

impl AuditAction {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.key() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn every_action_has_one_name_and_words() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.key()), Some(*a));
            assert!(!a.label().contains('.'), "{a:?}");
        }
        let mut keys: Vec<_> = AuditAction::ALL.iter().map(|a| a.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), AuditAction::ALL.len());
    }
}
