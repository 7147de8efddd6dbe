//! System > User Management > Users: the grid.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};

use super::UserView;
use crate::error::AppResult;
use crate::grid::{self, GridParams, GridQuery, PAGE_SIZES, SortColumn};
use crate::state::AppState;
use crate::web::session::{Admin, PageCtx};

pub struct Column {
    pub label: &'static str,
    pub href: String,
    /// "", "asc" or "desc": how the grid is sorted on this column now.
    pub sorted: &'static str,
}

pub struct PageLink {
    pub number: u32,
    pub href: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users/grid.html")]
pub struct GridPage {
    pub ctx: PageCtx,
    pub columns: Vec<Column>,
    pub rows: Vec<UserView>,
    pub total: i64,
    pub first_shown: i64,
    pub last_shown: i64,
    pub pages: Vec<PageLink>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub sizes: Vec<(u32, String, bool)>,
}

const COLUMNS: [(&str, SortColumn); 7] = [
    ("Username", SortColumn::Username),
    ("Primary Email", SortColumn::Email),
    ("First name", SortColumn::FirstName),
    ("Last name", SortColumn::LastName),
    ("Enabled", SortColumn::Enabled),
    ("Authentication status", SortColumn::AuthStatus),
    ("Created At", SortColumn::CreatedAt),
];

pub async fn grid(
    _admin: Admin,
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(params): Query<GridParams>,
) -> AppResult<GridPage> {
    let q = GridQuery::parse(&params)?;
    let page = grid::load(&state, &q).await?;
    let columns = COLUMNS
        .iter()
        .map(|(label, col)| {
            let active = q.sort == *col;
            Column {
                label,
                // A click on the sorted column flips it; on another column sorts ascending.
                href: q.href(*col, active && !q.desc, 1, q.size),
                sorted: match (active, q.desc) {
                    (false, _) => "",
                    (true, false) => "asc",
                    (true, true) => "desc",
                },
            }
        })
        .collect();
    let last_page = u32::try_from((page.total + i64::from(q.size) - 1) / i64::from(q.size))
        .unwrap_or(u32::MAX)
        .max(1);
    let window = q.page.saturating_sub(3).max(1)..=(q.page + 3).min(last_page);
    let mut numbers: Vec<u32> = window.collect();
    if numbers.first() != Some(&1) {
        numbers.insert(0, 1);
    }
    if numbers.last() != Some(&last_page) {
        numbers.push(last_page);
    }
    let pages = numbers
        .into_iter()
        .map(|n| PageLink {
            number: n,
            href: q.href(q.sort, q.desc, n, q.size),
            current: n == q.page,
        })
        .collect();
    let offset = i64::from(q.page - 1) * i64::from(q.size);
    let shown = page.rows.len() as i64;
    Ok(GridPage {
        ctx,
        columns,
        rows: page
            .rows
            .iter()
            .map(|r| UserView::new(&r.user, &r.organizations))
            .collect(),
        total: page.total,
        first_shown: if shown == 0 { 0 } else { offset + 1 },
        last_shown: offset + shown,
        pages,
        prev: (q.page > 1).then(|| q.href(q.sort, q.desc, q.page - 1, q.size)),
        next: (q.page < last_page).then(|| q.href(q.sort, q.desc, q.page + 1, q.size)),
        sizes: PAGE_SIZES
            .iter()
            .map(|s| (*s, q.href(q.sort, q.desc, 1, *s), *s == q.size))
            .collect(),
    })
}
