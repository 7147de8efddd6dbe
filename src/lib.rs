//! Gatehouse: the "System > User Management > Users" back-office.
//! See ARCHITECTURE.md for the layers and where each capability lives.

pub mod accounts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod grid;
pub mod jobs;

pub mod mail;
pub mod startup;
pub mod state;
pub mod store;
pub mod web;
