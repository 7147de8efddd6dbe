//! System > User Management > Users: the grid, a user's page, the forms, the lifecycle
//! and mass actions, saved views, and signing in.

pub mod forms;
pub mod grid;
pub mod lifecycle;
pub mod login;
pub mod mass;
pub mod page;
pub mod views;
