//! Cryptography and key files: argon2id for human passwords, the cipher that keeps API keys
//! (and one-time secrets on their way to a page) sealed, and the OAuth signing keys.

pub mod cipher;
pub mod hashing;
pub mod oauth_keys;
