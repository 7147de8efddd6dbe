//! System > User Management > Users: the grid with its views, filters, sorting, paging,
//! saved views, row menus and mass-action selection.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::ExportId;
use crate::domain::query::{DateField, SortColumn, TextField, TextOp, View};
use crate::domain::{AuthStatus, JobStatus};
use crate::error::AppResult;
use crate::state::AppState;
use crate::users::grid::{self, GridParams, GridQuery, PAGE_SIZES};
use crate::users::views;
use crate::web::input::Query;
use crate::web::pages::UserView;
use crate::web::session::{AdminActor, PageCtx};

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

pub struct Tab {
    pub label: String,
    pub href: String,
    pub current: bool,
}

pub struct SavedView {
    pub id: i64,
    pub name: String,
    pub href: String,
    pub current: bool,
    pub is_default: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct TextFilterView {
    pub param: &'static str,
    pub label: &'static str,
    pub value: String,
    pub ops: Vec<Choice>,
}

pub struct DateFilterView {
    pub param: &'static str,
    pub label: &'static str,
    pub from: String,
    pub to: String,
}

pub struct ExportView {
    pub id: ExportId,
    pub requested: String,
    pub what: &'static str,
    pub state: String,
    pub download: bool,
}

pub struct Row {
    pub user: UserView,
    pub is_self: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users/grid.html")]
pub struct GridPage {
    pub ctx: PageCtx,
    pub tabs: Vec<Tab>,
    pub saved: Vec<SavedView>,
    pub text_filters: Vec<TextFilterView>,
    pub enabled_choices: Vec<Choice>,
    pub status_choices: Vec<Choice>,
    pub org_choices: Vec<Choice>,
    pub date_filters: Vec<DateFilterView>,
    pub view_param: &'static str,
    pub sort_key: &'static str,
    pub dir: &'static str,
    pub size: u32,
    pub has_filters: bool,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub total: i64,
    /// "1,234" or "1000+".
    pub total_label: String,
    /// Past the counting cap: this page with every matching user counted.
    pub count_all_href: Option<String>,
    pub first_shown: i64,
    pub last_shown: i64,
    pub pages: Vec<PageLink>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub sizes: Vec<(u32, String, bool)>,
    /// This grid state, to come back to after an action.
    pub here: String,
    /// View and filters only: what "all matching" applies to.
    pub filter_query: String,
    /// Filters and sort: what "Save view" stores.
    pub view_query: String,
    /// The administrator's recent exports and their state.
    pub exports: Vec<ExportView>,
}

const COLUMNS: [(&str, SortColumn); 10] = [
    ("Username", SortColumn::Username),
    ("Primary Email", SortColumn::Email),
    ("First name", SortColumn::FirstName),
    ("Last name", SortColumn::LastName),
    ("Enabled", SortColumn::Enabled),
    ("Authentication status", SortColumn::AuthStatus),
    ("Organizations", SortColumn::Username),
    ("Last login", SortColumn::LastLogin),
    ("Created At", SortColumn::CreatedAt),
    ("Updated At", SortColumn::UpdatedAt),
];

fn choice(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Choice {
    Choice {
        value: value.into(),
        label: label.into(),
        selected,
    }
}

pub async fn grid(
    AdminActor { user: me, actor }: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    Query(params): Query<GridParams>,
) -> AppResult<Response> {
    let views::GridContext {
        views: saved_views,
        organizations: orgs,
        exports,
    } = views::grid_context(&state, &actor).await?;
    // A bare /admin/user opens the administrator's default view, if they chose one.
    if raw.as_deref().unwrap_or("").is_empty()
        && let Some(d) = saved_views.iter().find(|v| v.is_default)
    {
        return Ok(Redirect::to(&saved_href(d.id, &d.query)).into_response());
    }
    let q = GridQuery::parse(&params)?;
    let page = grid::load(&state, &actor, &q).await?;
    let current_saved: Option<i64> = params.get("saved").and_then(|s| s.parse().ok());
    let view_query = q.view_query();
    let now = state.clock.now();
    let exports = exports
        .into_iter()
        .map(|j| {
            let expired = j.expires_at.is_some_and(|e| e < now);
            ExportView {
                id: j.id,
                requested: crate::clock::display(j.created_at),
                what: if j.query.is_some() {
                    "This view"
                } else {
                    "All users"
                },
                state: match j.status {
                    JobStatus::Done if expired => "Expired".to_owned(),
                    JobStatus::Done => format!("Done, {} users", j.rows_written),
                    JobStatus::Failed => format!("Failed: {}", j.error.unwrap_or_default()),
                    JobStatus::Running => "Running".to_owned(),
                    JobStatus::Pending => "Waiting".to_owned(),
                },
                download: j.status == JobStatus::Done && !expired,
            }
        })
        .collect();

    let tabs = View::ALL
        .iter()
        .map(|v| Tab {
            label: v.label().to_owned(),
            href: format!("/admin/user?view={}", v.param()),
            current: current_saved.is_none() && q.filter.view == *v,
        })
        .collect();
    let saved = saved_views
        .iter()
        .map(|v| SavedView {
            id: v.id,
            name: v.name.clone(),
            href: saved_href(v.id, &v.query),
            current: current_saved == Some(v.id),
            is_default: v.is_default,
        })
        .collect();
    let text_filters = TextField::ALL
        .iter()
        .map(|f| {
            let (value, op) = q.text_value(*f);
            TextFilterView {
                param: f.param(),
                label: f.label(),
                value: value.to_owned(),
                ops: TextOp::ALL
                    .iter()
                    .map(|o| choice(o.param(), o.label(), *o == op))
                    .collect(),
            }
        })
        .collect();
    let enabled_choices = vec![
        choice("", "Any", q.filter.enabled.is_none()),
        choice("1", "Enabled", q.filter.enabled == Some(true)),
        choice("0", "Disabled", q.filter.enabled == Some(false)),
    ];
    let mut status_choices = vec![choice("", "Any", q.filter.status.is_none())];
    status_choices.extend(
        AuthStatus::ALL
            .iter()
            .map(|s| choice(s.as_str(), s.label(), q.filter.status == Some(*s))),
    );
    let mut org_choices = vec![choice("", "Any", q.filter.organization.is_none())];
    org_choices.extend(orgs.iter().map(|(id, name)| {
        choice(
            id.to_string(),
            name.clone(),
            q.filter.organization == Some(*id),
        )
    }));
    let day = |t: Option<i64>| {
        t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .map(|d| d.date().to_string())
            .unwrap_or_default()
    };
    let date_filters = DateField::ALL
        .iter()
        .map(|f| {
            let r = q.filter.dates.iter().find(|d| d.field == *f);
            DateFilterView {
                param: f.param(),
                label: f.label(),
                from: day(r.and_then(|r| r.from)),
                to: day(r.and_then(|r| r.to_exclusive).map(|t| t - 86_400)),
            }
        })
        .collect();
    let columns = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (label, col))| {
            // The organizations column (index 6) is a list and not sortable.
            let active = q.sort == *col && i != 6;
            Column {
                label,
                href: if i == 6 {
                    String::new()
                } else {
                    q.href(*col, active && !q.desc, 1, q.size)
                },
                sorted: match (active, q.desc) {
                    (false, _) => "",
                    (true, false) => "asc",
                    (true, true) => "desc",
                },
            }
        })
        .collect();
    let counted_pages = u32::try_from((page.total + i64::from(q.size) - 1) / i64::from(q.size))
        .unwrap_or(u32::MAX)
        .max(1);
    // Past the counting cap the last page is unknown: offer one more while pages are full.
    let full = page.rows.len() == q.size as usize;
    let last_page = if page.exact {
        counted_pages
    } else {
        counted_pages.max(q.page + u32::from(full))
    };
    let mut numbers: Vec<u32> =
        (q.page.saturating_sub(3).max(1)..=(q.page + 3).min(last_page)).collect();
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
    let offset = q.offset();
    let shown = page.rows.len() as i64;
    Ok(GridPage {
        ctx,
        tabs,
        saved,
        text_filters,
        enabled_choices,
        status_choices,
        org_choices,
        date_filters,
        view_param: q.filter.view.param(),
        sort_key: q.sort.key(),
        dir: if q.desc { "desc" } else { "asc" },
        size: q.size,
        has_filters: !q.filter_pairs().iter().all(|(k, _)| k == "view"),
        columns,
        rows: page
            .rows
            .iter()
            .map(|r| Row {
                user: UserView::new(&r.user, &r.organizations),
                is_self: r.user.id == me.id,
            })
            .collect(),
        total: page.total,
        total_label: if page.exact {
            page.total.to_string()
        } else {
            format!("{}+", grid::COUNT_CAP)
        },
        count_all_href: (!page.exact).then(|| q.count_all_href()),
        first_shown: if shown == 0 { 0 } else { offset + 1 },
        last_shown: offset + shown,
        here: q.href(q.sort, q.desc, q.page, q.size),
        pages,
        prev: (q.page > 1).then(|| q.href(q.sort, q.desc, q.page - 1, q.size)),
        next: (q.page < last_page).then(|| q.href(q.sort, q.desc, q.page + 1, q.size)),
        sizes: PAGE_SIZES
            .iter()
            .map(|s| (*s, q.href(q.sort, q.desc, 1, *s), *s == q.size))
            .collect(),
        filter_query: grid::encode(&q.filter_pairs()),
        view_query,
        exports,
    }
    .into_response())
}

fn saved_href(id: i64, query: &str) -> String {
    if query.is_empty() {
        format!("/admin/user?saved={id}")
    } else {
        format!("/admin/user?{query}&saved={id}")
    }
}
