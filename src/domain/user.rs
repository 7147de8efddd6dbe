use super::FieldError;

/// A username: 1..=100 characters, no whitespace or control characters, no `@` (so a
/// sign-in name is never ambiguous between a username and an email address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                "username",
                "This value should not be blank.",
            ));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(
                "username",
                format!(
                    "The username must be at most {} characters long.",
                    Self::MAX_LEN
                ),
            ));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        {
            return Err(FieldError::new(
                "username",
                "The username may not contain spaces, control characters or \"@\".",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key that uniqueness and sign-in use.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A primary email address. Deliberately permissive (one `@`, something on each side, a
/// dot-free local host is allowed for intranets): the reset email is the real check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field(raw, "email")
    }

    pub fn parse_field(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "This value should not be blank."));
        }
        let invalid = || FieldError::new(field, "This value is not a valid email address.");
        if s.len() > Self::MAX_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = s.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(invalid());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An optional name part (prefix, first, middle, last, suffix): trimmed, empty becomes None.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName(Option<String>);

impl PersonName {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: Option<&str>, field: &'static str) -> Result<Self, FieldError> {
        let s = raw.map(str::trim).unwrap_or("");
        if s.is_empty() {
            return Ok(Self(None));
        }
        if s.chars().count() > Self::MAX_LEN || s.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                format!(
                    "This value must be at most {} characters, without control characters.",
                    Self::MAX_LEN
                ),
            ));
        }
        Ok(Self(Some(s.to_owned())))
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(Username::parse("  ").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("a@b").is_err());
        assert_eq!(
            Username::parse(" Admin ").map(|u| u.key()),
            Ok("admin".into())
        );
    }

    #[test]
    fn email_rules() {
        assert!(Email::parse("nobody").is_err());
        assert!(Email::parse("a@@b").is_err());
        assert!(Email::parse("a@.b").is_err());
        assert_eq!(
            Email::parse("Ann@Example.COM").map(|e| e.key()),
            Ok("ann@example.com".into())
        );
    }
}
