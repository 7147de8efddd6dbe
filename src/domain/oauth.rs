//! OAuth application names and client credentials, parsed or generated once.

use std::fmt;

use rand::Rng;
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::FieldError;

/// A trimmed, non-empty application name of at most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "This value should not be blank."));
        }
        if name.chars().count() > 255 || name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "An application name has at most 255 characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn random_alphanumeric(len: usize) -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// 32 random letters and digits (about 190 bits): public, but unguessable so that the
/// client id alone reveals nothing about other clients.
pub fn generate_client_id() -> String {
    random_alphanumeric(32)
}

/// Says what the string is when it turns up in a log or a repository (secret scanners key
/// on such prefixes).
const SECRET_PREFIX: &str = "ghcs_";

/// A client secret in clear: it exists only between its generation and the page that
/// shows it once. Only its SHA-256 is stored.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// The prefix and 64 random letters and digits from the OS (about 381 bits). Letters
    /// and digits need no escaping in HTTP Basic (RFC 6749 section 2.3.1 form-encodes them).
    pub fn generate() -> Self {
        Self(format!("{SECRET_PREFIX}{}", random_alphanumeric(64)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database keeps. A fast hash is right here, unlike for passwords: the secret
    /// has far too much entropy to guess, and argon2 would cap the token endpoint near the
    /// hashing rate.
    pub fn hash(&self) -> String {
        hash_secret(self.0.as_bytes())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

pub fn hash_secret(secret: &[u8]) -> String {
    hex::encode(Sha256::digest(secret))
}

/// Compares an offered secret with a stored hash in constant time.
pub fn secret_matches(stored_hash: &str, offered: &[u8]) -> bool {
    let offered = hash_secret(offered);
    bool::from(offered.as_bytes().ct_eq(stored_hash.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(AppName::parse("  CRM sync ").unwrap().as_str(), "CRM sync");
        assert!(AppName::parse("   ").is_err());
        assert!(AppName::parse(&"x".repeat(256)).is_err());
        assert!(AppName::parse("a\nb").is_err());
    }

    #[test]
    fn credentials_are_random_and_secrets_hashed() {
        let id = generate_client_id();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(id, generate_client_id());
        let s = ClientSecret::generate();
        assert!(s.expose().starts_with("ghcs_"));
        assert_eq!(s.expose().len(), 69);
        assert!(secret_matches(&s.hash(), s.expose().as_bytes()));
        assert!(!secret_matches(&s.hash(), b"ghcs_wrong"));
        assert!(!format!("{s:?}").contains(s.expose()));
    }
}
