//! The users grid's query model: what may be sorted, how pages are cut, and parsing of the
//! grid state from the URL. Every value that reaches SQL text comes from an enum here.

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::users::{self, UserRow};

pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];
pub const DEFAULT_PAGE_SIZE: u32 = 25;

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

    /// The name used in URLs.
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

    fn column(self) -> &'static str {
        match self {
            Self::Username => "u.username_key",
            Self::Email => "u.email_key",
            Self::FirstName => "u.first_name",
            Self::LastName => "u.last_name",
            Self::Enabled => "u.enabled",
            Self::AuthStatus => "u.auth_status",
            Self::LastLogin => "u.last_login_at",
            Self::CreatedAt => "u.created_at",
            Self::UpdatedAt => "u.updated_at",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == s)
    }
}

/// The grid state as it arrives in the query string, before validation.
#[derive(Debug, Default, Deserialize)]
pub struct GridParams {
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<String>,
    pub size: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridQuery {
    pub sort: SortColumn,
    pub desc: bool,
    pub page: u32,
    pub size: u32,
}

impl Default for GridQuery {
    fn default() -> Self {
        Self {
            sort: SortColumn::Username,
            desc: false,
            page: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl GridQuery {
    pub fn parse(p: &GridParams) -> AppResult<Self> {
        let mut q = Self::default();
        if let Some(s) = p.sort.as_deref().filter(|s| !s.is_empty()) {
            q.sort = SortColumn::parse(s).ok_or_else(|| {
                AppError::BadRequest(format!("The grid cannot be sorted by {s:?}."))
            })?;
        }
        match p.dir.as_deref() {
            None | Some("") | Some("asc") => {}
            Some("desc") => q.desc = true,
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "Unknown sort direction {other:?}; use \"asc\" or \"desc\"."
                )));
            }
        }
        if let Some(s) = p.page.as_deref().filter(|s| !s.is_empty()) {
            q.page = s.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "The page number {s:?} is not a positive whole number."
                ))
            })?;
        }
        if let Some(s) = p.size.as_deref().filter(|s| !s.is_empty()) {
            q.size = s
                .parse::<u32>()
                .ok()
                .filter(|n| PAGE_SIZES.contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "The page size {s:?} is not one of 10, 25, 50, 100."
                    ))
                })?;
        }
        Ok(q)
    }

    /// ORDER BY text: the chosen column, then the id, so that rows with equal values keep
    /// one order and paging never repeats or skips a row.
    fn order_by(&self) -> String {
        let dir = if self.desc { "DESC" } else { "ASC" };
        // NULLs last in both directions on both backends.
        let col = self.sort.column();
        format!("({col} IS NULL) ASC, {col} {dir}, u.id {dir}")
    }

    /// The query string for this state with one change, for links in the grid.
    pub fn href(&self, sort: SortColumn, desc: bool, page: u32, size: u32) -> String {
        format!(
            "/admin/user?sort={}&dir={}&page={page}&size={size}",
            sort.key(),
            if desc { "desc" } else { "asc" }
        )
    }
}

pub struct GridPage {
    pub rows: Vec<GridRow>,
    pub total: i64,
}

pub struct GridRow {
    pub user: UserRow,
    pub organizations: Vec<String>,
}

pub async fn load(state: &AppState, q: &GridQuery) -> AppResult<GridPage> {
    let total = users::count(&state.db).await?;
    let limit = i64::from(q.size);
    let offset = i64::from(q.page - 1) * limit;
    let rows = users::page(&state.db, &q.order_by(), limit, offset).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let orgs = users::organization_names(&state.db, &ids).await?;
    let rows = rows
        .into_iter()
        .map(|user| GridRow {
            organizations: orgs
                .iter()
                .filter(|(id, _)| *id == user.id)
                .map(|(_, n)| n.clone())
                .collect(),
            user,
        })
        .collect();
    Ok(GridPage { rows, total })
}
