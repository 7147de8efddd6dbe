//! Gatehouse: the "System > User Management > Users" back-office.
//! See ARCHITECTURE.md for the layers and where each capability lives.

pub mod access;
pub mod api_keys;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod exports;
pub mod jobs;

pub mod mail;
pub mod oauth;
pub mod organizations;
pub mod passwords;
pub mod security;
pub mod startup;
pub mod state;
pub mod store;
pub mod users;
pub mod web;
