use std::fmt;

use rand::RngCore;
use rand::rngs::OsRng;

/// A user's API key: 40 lower-case hexadecimal characters (160 bits from the OS random
/// generator), the shape OroPlatform's keys have. `Debug` never shows it, so it cannot end
/// up in a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub const LEN: usize = 40;

    pub fn generate() -> Self {
        let mut bytes = [0u8; Self::LEN / 2];
        OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// A key read back from storage; None when it does not have the shape of a key.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == Self::LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_40_hex_characters_and_never_debug_printed() {
        let k = ApiKey::generate();
        assert_eq!(ApiKey::parse(k.expose()), Some(k.clone()));
        assert_ne!(ApiKey::generate(), k);
        assert_eq!(format!("{k:?}"), "ApiKey(***)");
        assert!(ApiKey::parse("ABCDEF0123456789abcdef0123456789abcdef01").is_none());
        assert!(ApiKey::parse("abc").is_none());
    }
}
