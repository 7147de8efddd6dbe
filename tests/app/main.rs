//! All HTTP-level tests in one binary (one link instead of many). Each behaviour runs on
//! SQLite and on PostgreSQL through `both_backends!`.

mod common;

mod auth;
mod browser;
mod cli;
mod grid;
mod lifecycle;
mod oauth;
mod organizations;
