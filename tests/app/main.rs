//! All HTTP-level tests in one binary (one link instead of many). Each behaviour runs on
//! SQLite and on PostgreSQL through `both_backends!`.

mod common;

mod api;
mod auth;
mod browser;
mod cli;
mod exports;
mod grid;
mod hardening;
mod input;
mod lifecycle;
mod mail;
mod mailbox;
mod oauth;
mod organizations;
mod passwords;
mod security;
