//! All HTTP-level tests in one binary (one link instead of many). Each behaviour runs on
//! SQLite and on PostgreSQL through `both_backends!`.

mod common;

mod api;
mod api_users;
mod auth;
mod browser;
mod browser_oauth;
mod cli;
mod exports;
mod grid;
mod grid_search;
mod hardening;
mod input;
mod lifecycle;
mod mail;
mod mailbox;
mod oauth;
mod oauth_pages;
mod organizations;
mod passwords;
mod security;
