//! OAuth 2.0 over HTTP: the token endpoint and `Authorization: Bearer`.

pub mod bearer;
pub mod token;
