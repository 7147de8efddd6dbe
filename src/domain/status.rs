use std::fmt;

/// Authentication status, independent of `enabled` (as in OroPlatform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthStatus {
    Active,
    Locked,
    PasswordReset,
}

impl AuthStatus {
    pub const ALL: [AuthStatus; 3] = [Self::Active, Self::Locked, Self::PasswordReset];

    /// The value stored in the database and used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Locked => "locked",
            Self::PasswordReset => "password_reset",
        }
    }

    /// The label shown to people, word for word as the seed has it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Locked => "Locked",
            Self::PasswordReset => "Password reset",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for AuthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
