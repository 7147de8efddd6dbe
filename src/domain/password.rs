//! Human passwords: the policy from config, argon2id hashing, and "Suggest Password".

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::FieldError;

/// A clear-text password on its way to being hashed. `Debug` never shows it.
#[derive(Clone)]
pub struct PlainPassword(String);

impl PlainPassword {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainPassword(***)")
    }
}

/// `security.password` in config.yml. Defaults are OroPlatform's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_special: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_special: false,
        }
    }
}

/// Longest password accepted: argon2 would take anything, but a megabyte password is an
/// attack on the hasher, not a password.
pub const MAX_PASSWORD_LEN: usize = 4096;

impl PasswordPolicy {
    /// Checks a password; the error lists everything that is missing, in one sentence.
    pub fn check(&self, field: &'static str, pw: &PlainPassword) -> Result<(), FieldError> {
        let s = pw.expose();
        let mut missing = Vec::new();
        if s.chars().count() < self.min_length {
            missing.push(format!("at least {} characters", self.min_length));
        }
        if self.require_lowercase && !s.chars().any(char::is_lowercase) {
            missing.push("a lower-case letter".to_owned());
        }
        if self.require_uppercase && !s.chars().any(char::is_uppercase) {
            missing.push("an upper-case letter".to_owned());
        }
        if self.require_numbers && !s.chars().any(|c| c.is_ascii_digit()) {
            missing.push("a number".to_owned());
        }
        if self.require_special && !s.chars().any(is_special) {
            missing.push("a special character".to_owned());
        }
        if s.len() > MAX_PASSWORD_LEN {
            return Err(FieldError::new(
                field,
                format!("The password must be at most {MAX_PASSWORD_LEN} bytes long."),
            ));
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(FieldError::new(
                field,
                format!("The password must contain {}.", join_human(&missing)),
            ))
        }
    }

    /// A human-readable summary for form hints.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("at least {} characters", self.min_length)];
        if self.require_lowercase {
            parts.push("a lower-case letter".into());
        }
        if self.require_uppercase {
            parts.push("an upper-case letter".into());
        }
        if self.require_numbers {
            parts.push("a number".into());
        }
        if self.require_special {
            parts.push("a special character".into());
        }
        format!("The password must contain {}.", join_human(&parts))
    }

    /// A random password that satisfies the policy: one character of each required class,
    /// filled up from letters and digits to max(16, min_length), shuffled; from the OS RNG.
    pub fn suggest(&self) -> PlainPassword {
        const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
        const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
        const DIGITS: &[u8] = b"23456789";
        const SPECIAL: &[u8] = b"!#$%&*+-=?@^_";
        let mut rng = OsRng;
        let mut pick = |set: &[u8]| set[rng.gen_range(0..set.len())] as char;
        let mut chars = Vec::new();
        if self.require_lowercase {
            chars.push(pick(LOWER));
        }
        if self.require_uppercase {
            chars.push(pick(UPPER));
        }
        if self.require_numbers {
            chars.push(pick(DIGITS));
        }
        if self.require_special {
            chars.push(pick(SPECIAL));
        }
        let all: Vec<u8> = [LOWER, UPPER, DIGITS].concat();
        while chars.len() < self.min_length.max(16) {
            chars.push(pick(&all));
        }
        chars.shuffle(&mut OsRng);
        PlainPassword(chars.into_iter().collect())
    }
}

fn is_special(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace()
}

fn join_human(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

/// argon2id with OWASP's minimum (m = 19 MiB, t = 2, p = 1).
fn hasher() -> Argon2<'static> {
    // The constants are valid by construction; `Params::new` only fails on out-of-range values.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. CPU-heavy: call from `spawn_blocking`.
pub fn hash(pw: &PlainPassword) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(pw.expose().as_bytes(), &salt)?
        .to_string())
}

/// Verifies a password against a PHC string. CPU-heavy: call from `spawn_blocking`.
/// A malformed stored hash verifies as false rather than erroring, so a broken row can
/// never be signed into.
pub fn verify(pw: &PlainPassword, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(pw.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_lists_everything_missing() {
        let p = PasswordPolicy::default();
        let err = p.check("password", &PlainPassword::new("abc")).unwrap_err();
        assert_eq!(
            err.message,
            "The password must contain at least 8 characters, an upper-case letter and a number."
        );
        assert!(p.check("password", &PlainPassword::new("Abcdefg1")).is_ok());
    }

    #[test]
    fn suggestions_meet_strict_policies() {
        let p = PasswordPolicy {
            min_length: 20,
            require_special: true,
            ..PasswordPolicy::default()
        };
        for _ in 0..200 {
            let pw = p.suggest();
            assert!(p.check("password", &pw).is_ok(), "{}", pw.expose());
            assert_eq!(pw.expose().len(), 20);
        }
    }

    #[test]
    fn hash_and_verify() {
        let pw = PlainPassword::new("Secret123");
        let h = hash(&pw).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&pw, &h));
        assert!(!verify(&PlainPassword::new("Secret124"), &h));
        assert!(!verify(&pw, "not a hash"));
    }
}
