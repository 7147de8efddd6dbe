//! The user query model: what a set of users is and how it is ordered, independent of SQL
//! and of the URL. The store turns a `UserFilter` and `SortColumn`s into SQL; the grid, the
//! mass actions, "export this view" and the API build them.

use crate::domain::{AuthStatus, OrganizationId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Username,
    Email,
    FirstName,
    LastName,
}

impl TextField {
    pub const ALL: [TextField; 4] = [Self::Username, Self::Email, Self::FirstName, Self::LastName];

    /// The query-string name (the operator is `<name>_op`).
    pub fn param(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Username => "Username",
            Self::Email => "Primary Email",
            Self::FirstName => "First name",
            Self::LastName => "Last name",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Contains,
    Is,
    StartsWith,
}

impl TextOp {
    pub const ALL: [TextOp; 3] = [Self::Contains, Self::Is, Self::StartsWith];

    pub fn param(self) -> &'static str {
        match self {
            Self::Contains => "contains",
            Self::Is => "is",
            Self::StartsWith => "starts",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Contains => "contains",
            Self::Is => "is",
            Self::StartsWith => "starts with",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.param() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    LastLogin,
    CreatedAt,
    UpdatedAt,
}

impl DateField {
    pub const ALL: [DateField; 3] = [Self::LastLogin, Self::CreatedAt, Self::UpdatedAt];

    pub fn param(self) -> &'static str {
        match self {
            Self::LastLogin => "last_login",
            Self::CreatedAt => "created",
            Self::UpdatedAt => "updated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::LastLogin => "Last login",
            Self::CreatedAt => "Created At",
            Self::UpdatedAt => "Updated At",
        }
    }
}

/// The built-in grid views, each a predicate on the users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    All,
    Active,
    Disabled,
    CannotLogin,
}

impl View {
    pub const ALL: [View; 4] = [Self::All, Self::Active, Self::Disabled, Self::CannotLogin];

    pub fn param(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::CannotLogin => "cannot_login",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All Users",
            Self::Active => "Active Users",
            Self::Disabled => "Disabled Users",
            Self::CannotLogin => "Cannot Login",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.param() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFilter {
    pub field: TextField,
    pub op: TextOp,
    pub value: String,
    /// For "contains" on username or email: what the search indexes look up
    /// (`users::probe`). Not part of the URL.
    pub lookup: Lookup,
}

/// What a username or email "contains" asks of the search indexes (PostgreSQL's 4-grams
/// and trigrams, SQLite's FTS5 trigrams), from a sample of the keys (`users::probe`). The
/// whole value is matched all the same: this changes what a search costs, never what it
/// finds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lookup {
    /// The part of the value to look up, or None for the whole value.
    pub part: Option<String>,
    /// How many rows the sample says hold what is looked up.
    pub frequency: Frequency,
}

/// The share of rows a sample of keys says hold what a search looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Frequency {
    /// No sample (or one too small to tell): the database plans for the value.
    #[default]
    Unknown,
    /// Few rows: the index is the best plan whatever the value, so PostgreSQL is asked for
    /// one plan it can keep for every such search instead of planning each one anew.
    Rare,
    /// Enough rows that the database should plan for the value.
    Moderate,
    /// So many rows that reading users in the page's order finds a page sooner than the
    /// index could list them all: the index is not asked.
    Common,
}

/// An inclusive range of Unix seconds; either end may be open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRange {
    pub field: DateField,
    pub from: Option<i64>,
    pub to_exclusive: Option<i64>,
}

/// A set of users: every condition must hold (AND).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserFilter {
    pub view: View,
    pub text: Vec<TextFilter>,
    pub enabled: Option<bool>,
    pub status: Option<AuthStatus>,
    pub organization: Option<OrganizationId>,
    pub dates: Vec<DateRange>,
    /// Restricts to these ids (a selection of rows).
    pub ids: Option<Vec<UserId>>,
    /// Restricts to users who belong to at least one of these organizations and to no
    /// other: an administrator's reach (`access::authority::restrict`). Not in the URL.
    pub within: Option<Vec<OrganizationId>>,
}

impl UserFilter {
    pub fn only(ids: Vec<UserId>) -> Self {
        Self {
            ids: Some(ids),
            ..Self::default()
        }
    }

    /// True when the filter is `view` and nothing else.
    pub fn is_just(&self, view: View) -> bool {
        *self
            == Self {
                view,
                ..Self::default()
            }
    }
}

/// A column users can be ordered by: the only source of ORDER BY text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Username,
    Email,
    FirstName,
    LastName,
    Enabled,
    AuthStatus,
    LastLogin,
    CreatedAt,
    UpdatedAt,
}

impl SortColumn {
    pub const ALL: [SortColumn; 9] = [
        Self::Username,
        Self::Email,
        Self::FirstName,
        Self::LastName,
        Self::Enabled,
        Self::AuthStatus,
        Self::LastLogin,
        Self::CreatedAt,
        Self::UpdatedAt,
    ];

    /// The name used in URLs (and in the API's `sort`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::FirstName => "firstName",
            Self::LastName => "lastName",
            Self::Enabled => "enabled",
            Self::AuthStatus => "authStatus",
            Self::LastLogin => "lastLogin",
            Self::CreatedAt => "createdAt",
            Self::UpdatedAt => "updatedAt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == s)
    }
}
