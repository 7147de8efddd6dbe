//! The user fields, one catalogue: what an export writes (and, later, what an import reads
//! and the API names), each with its one name.

/// A field of a user, as the export names its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserField {
    Id,
    Username,
    Email,
    NamePrefix,
    FirstName,
    MiddleName,
    LastName,
    NameSuffix,
    Birthday,
    Phone,
    Enabled,
    AuthStatus,
    Organizations,
    Roles,
    LastLoginAt,
    LoginCount,
    CreatedAt,
    UpdatedAt,
    /// The argon2id hash, never the password (the seed: "Passwords are stored and exported
    /// in the hashed form").
    PasswordHash,
}

impl UserField {
    /// Every field, in the export's default order of the "User fields" page.
    pub const ALL: [UserField; 19] = [
        Self::Id,
        Self::Username,
        Self::Email,
        Self::NamePrefix,
        Self::FirstName,
        Self::MiddleName,
        Self::LastName,
        Self::NameSuffix,
        Self::Birthday,
        Self::Phone,
        Self::Enabled,
        Self::AuthStatus,
        Self::Organizations,
        Self::Roles,
        Self::LastLoginAt,
        Self::LoginCount,
        Self::CreatedAt,
        Self::UpdatedAt,
        Self::PasswordHash,
    ];

    /// The column name in exports and in `export.fields`.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Username => "username",
            Self::Email => "email",
            Self::NamePrefix => "name_prefix",
            Self::FirstName => "first_name",
            Self::MiddleName => "middle_name",
            Self::LastName => "last_name",
            Self::NameSuffix => "name_suffix",
            Self::Birthday => "birthday",
            Self::Phone => "phone",
            Self::Enabled => "enabled",
            Self::AuthStatus => "auth_status",
            Self::Organizations => "organizations",
            Self::Roles => "roles",
            Self::LastLoginAt => "last_login_at",
            Self::LoginCount => "login_count",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::PasswordHash => "password_hash",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == s)
    }

    /// A stored or configured list, comma-separated or given one by one; unknown names
    /// are left out.
    pub fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Self> {
        names.into_iter().filter_map(Self::parse).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::UserField;

    #[test]
    fn every_field_has_one_name() {
        for f in UserField::ALL {
            assert_eq!(UserField::parse(f.key()), Some(f));
        }
        let mut keys: Vec<_> = UserField::ALL.iter().map(|f| f.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), UserField::ALL.len());
        assert_eq!(UserField::parse("shoe_size"), None);
    }
}
