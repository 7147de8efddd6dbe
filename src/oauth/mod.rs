//! OAuth 2.0 client credentials: the applications users own, the token endpoint's grant,
//! and the check of an access token presented as `Authorization: Bearer`.

pub mod apps;
pub mod token;
