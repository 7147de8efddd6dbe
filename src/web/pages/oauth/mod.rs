//! OAuth applications in the back-office: a user's section, the forms and row actions,
//! the global list, and the one-time credentials.

pub mod actions;
pub mod apps;
pub mod credentials;
pub mod list;
