//! The users grid: its state in the URL (view, filters, sort, paging) parsed into the
//! query model (`domain::query`), and one page of it as an actor may see it.

use std::collections::HashMap;

use time::macros::format_description;

use super::probe;
use crate::domain::query::{
    DateField, DateRange, Frequency, Lookup, SortColumn, TextField, TextFilter, TextOp, UserFilter,
    View,
};

use crate::domain::{AuthStatus, OrganizationId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::users::{self, Counting};

pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];
pub const DEFAULT_PAGE_SIZE: u32 = 25;
/// Longest text filter accepted; longer values are refused, not truncated.
const MAX_FILTER_LEN: usize = 255;

/// The grid state as it arrives in the query string, before validation. Unknown
/// parameters are ignored (a bookmarked URL from an older version still opens).
pub type GridParams = HashMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridQuery {
    pub filter: UserFilter,
    pub sort: SortColumn,
    pub desc: bool,
    pub page: u32,
    pub size: u32,
    /// `count=all`: count every matching user instead of stopping at `COUNT_CAP`.
    pub count_all: bool,
}

impl Default for GridQuery {
    fn default() -> Self {
        Self {
            filter: UserFilter::default(),
            sort: SortColumn::Username,
            desc: false,
            page: 1,
            size: DEFAULT_PAGE_SIZE,
            count_all: false,
        }
    }
}

fn bad(msg: String) -> AppError {
    AppError::BadRequest(msg)
}

fn parse_day(field: DateField, end: &str, s: &str) -> AppResult<i64> {
    let fmt = format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(s, &fmt).map_err(|_| {
        bad(format!(
            "The {end} date of \"{}\" must look like 2026-01-31, not {s:?}.",
            field.label()
        ))
    })?;
    Ok(day.midnight().assume_utc().unix_timestamp())
}

impl GridQuery {
    /// What the store reads for this page of `filter` (the query's own filter, or it with
    /// the probe's lookups), counted as `counting` asks.
    pub fn listing<'a>(&self, filter: &'a UserFilter, counting: Counting) -> users::Listing<'a> {
        users::Listing {
            filter,
            sort: self.sort,
            desc: self.desc,
            limit: i64::from(self.size),
            offset: self.offset(),
            counting,
        }
    }

    /// Rows before this page.
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.size)
    }

    pub fn parse(p: &GridParams) -> AppResult<Self> {
        let get = |k: &str| p.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let mut q = Self::default();
        if let Some(v) = get("view") {
            q.filter.view = View::parse(v)
                .ok_or_else(|| bad(format!("There is no grid view called {v:?}.")))?;
        }
        for field in TextField::ALL {
            let Some(value) = get(field.param()) else {
                continue;
            };
            if value.chars().count() > MAX_FILTER_LEN {
                return Err(bad(format!(
                    "The \"{}\" filter is longer than {MAX_FILTER_LEN} characters.",
                    field.label()
                )));
            }
            let op_key = format!("{}_op", field.param());
            let op = match get(&op_key) {
                None => TextOp::Contains,
                Some(o) => TextOp::parse(o).ok_or_else(|| {
                    bad(format!(
                        "Unknown operator {o:?} for \"{}\"; use contains, is or starts.",
                        field.label()
                    ))
                })?,
            };
            q.filter.text.push(TextFilter {
                field,
                op,
                value: value.to_owned(),
                lookup: Lookup::default(),
            });
        }
        match get("count") {
            None => {}
            Some("all") => q.count_all = true,
            Some(v) => {
                return Err(bad(format!(
                    "count takes only \"all\" (count every matching user), not {v:?}."
                )));
            }
        }
        match get("enabled") {
            None => {}
            Some("1") => q.filter.enabled = Some(true),
            Some("0") => q.filter.enabled = Some(false),
            Some(v) => {
                return Err(bad(format!(
                    "The \"Enabled\" filter takes 1 or 0, not {v:?}."
                )));
            }
        }
        if let Some(v) = get("status") {
            q.filter.status = Some(
                AuthStatus::parse(v)
                    .ok_or_else(|| bad(format!("Unknown authentication status {v:?}.")))?,
            );
        }
        if let Some(v) = get("org") {
            q.filter.organization = Some(
                v.parse::<OrganizationId>()
                    .ok()
                    .filter(|n| n.get() > 0)
                    .ok_or_else(|| {
                        bad(format!(
                            "The organization filter {v:?} is not an organization id."
                        ))
                    })?,
            );
        }
        for field in DateField::ALL {
            let from = get(&format!("{}_from", field.param()))
                .map(|s| parse_day(field, "start", s))
                .transpose()?;
            let to = get(&format!("{}_to", field.param()))
                .map(|s| parse_day(field, "end", s))
                .transpose()?
                .map(|t| t + 86_400);
            if let (Some(f), Some(t)) = (from, to)
                && f >= t
            {
                return Err(bad(format!(
                    "The \"{}\" range ends before it starts.",
                    field.label()
                )));
            }
            if from.is_some() || to.is_some() {
                q.filter.dates.push(DateRange {
                    field,
                    from,
                    to_exclusive: to,
                });
            }
        }
        if let Some(s) = get("sort") {
            q.sort = SortColumn::parse(s)
                .ok_or_else(|| bad(format!("The grid cannot be sorted by {s:?}.")))?;
        }
        match get("dir") {
            None | Some("asc") => {}
            Some("desc") => q.desc = true,
            Some(other) => {
                return Err(bad(format!(
                    "Unknown sort direction {other:?}; use \"asc\" or \"desc\"."
                )));
            }
        }
        if let Some(s) = get("page") {
            q.page = s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| {
                    bad(format!(
                        "The page number {s:?} is not a positive whole number."
                    ))
                })?;
        }
        if let Some(s) = get("size") {
            q.size = s
                .parse::<u32>()
                .ok()
                .filter(|n| PAGE_SIZES.contains(n))
                .ok_or_else(|| {
                    bad(format!(
                        "The page size {s:?} is not one of 10, 25, 50, 100."
                    ))
                })?;
        }
        Ok(q)
    }

    /// The filter part of the state (view and filters) as query pairs, defaults omitted.
    pub fn filter_pairs(&self) -> Vec<(String, String)> {
        let f = &self.filter;
        let mut out = Vec::new();
        if f.view != View::All {
            out.push(("view".into(), f.view.param().into()));
        }
        for t in &f.text {
            out.push((t.field.param().into(), t.value.clone()));
            if t.op != TextOp::Contains {
                out.push((format!("{}_op", t.field.param()), t.op.param().into()));
            }
        }
        if let Some(e) = f.enabled {
            out.push(("enabled".into(), if e { "1" } else { "0" }.into()));
        }
        if let Some(s) = f.status {
            out.push(("status".into(), s.as_str().into()));
        }
        if let Some(o) = f.organization {
            out.push(("org".into(), o.to_string()));
        }
        let day = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .map(|d| d.date().to_string())
                .unwrap_or_default()
        };
        for d in &f.dates {
            if let Some(from) = d.from {
                out.push((format!("{}_from", d.field.param()), day(from)));
            }
            if let Some(to) = d.to_exclusive {
                out.push((format!("{}_to", d.field.param()), day(to - 86_400)));
            }
        }
        out
    }

    /// Filters plus sort: what a saved view remembers.
    pub fn view_query(&self) -> String {
        let mut pairs = self.filter_pairs();
        if self.sort != SortColumn::Username || self.desc {
            pairs.push(("sort".into(), self.sort.key().into()));
            pairs.push(("dir".into(), if self.desc { "desc" } else { "asc" }.into()));
        }
        encode(&pairs)
    }

    /// A link to this grid state with the sort, page and size given.
    pub fn href(&self, sort: SortColumn, desc: bool, page: u32, size: u32) -> String {
        let mut pairs = self.filter_pairs();
        pairs.push(("sort".into(), sort.key().into()));
        pairs.push(("dir".into(), if desc { "desc" } else { "asc" }.into()));
        pairs.push(("page".into(), page.to_string()));
        pairs.push(("size".into(), size.to_string()));
        if self.count_all {
            pairs.push(("count".into(), "all".into()));
        }
        format!("/admin/user?{}", encode(&pairs))
    }

    /// This grid state (same page) with every matching user counted.
    pub fn count_all_href(&self) -> String {
        let all = Self {
            count_all: true,
            ..self.clone()
        };
        all.href(self.sort, self.desc, self.page, self.size)
    }

    pub fn text_value(&self, field: TextField) -> (&str, TextOp) {
        self.filter
            .text
            .iter()
            .find(|t| t.field == field)
            .map_or(("", TextOp::Contains), |t| (t.value.as_str(), t.op))
    }
}

pub fn encode(pairs: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Parses a stored or posted query string (a saved view, the "all matching" selection),
/// as strictly as a request's own query string: a control character in a filter is refused
/// here, not sent to the database.
pub fn parse_query_string(qs: &str) -> AppResult<GridQuery> {
    let params: GridParams = crate::domain::input::pairs(qs.trim_start_matches('?').as_bytes())?
        .into_iter()
        .collect();
    GridQuery::parse(&params)
}

pub struct GridPage {
    pub rows: Vec<GridRow>,
    /// Matching users, exact up to `COUNT_CAP` (or all of them with `count=all`).
    pub total: i64,
    /// False when there are more than `COUNT_CAP` (the grid then says "1000+").
    pub exact: bool,
}

/// Counting stops here: past it the grid shows "1000+", pages on with Next, and offers
/// to count them all (`count=all`). Counting is what a page of a large set costs most: up to
/// 10,000 it was about 40% of the work per page view at a million users (BENCHMARKS.md);
/// an exact count of a million, about 60 ms, is for when it is asked for.
pub const COUNT_CAP: i64 = 1_000;

pub struct GridRow {
    pub user: super::UserSummary,
    pub organizations: Vec<String>,
}

/// Up to this many users matching a "contains" search, the grid reads the whole matching
/// set once (ids only) and takes its count and page from it. A selective search (an email
/// "contains" served by an n-gram index) then runs once per page view instead of twice (for
/// the count and for the page); a large set costs one extra read of this many ids.
pub const FEW_MATCHES: i64 = 500;

/// One page of the users grid as `actor` sees it: only the users they manage.
pub async fn load(
    state: &AppState,
    actor: &crate::access::Actor,
    q: &GridQuery,
) -> AppResult<GridPage> {
    actor.require_admin()?;
    let reachable = crate::access::authority::restrict(actor, q.filter.clone());
    let filter = with_lookups(state, &reachable).await;
    let offset = q.offset();
    let listed = |counting| {
        let listing = q.listing(&filter, counting);
        async move { users::grid_page(&state.db, &listing).await }
    };
    // Only a "contains" search is costly enough to be worth reading its matches once for
    // both the count and the page; for the other filters (indexes, a view) a large set is
    // the common case, and reading it first would be wasted. So it is for a term the
    // sample says is in over 5% of keys (50,000 of a million users): the page is read
    // with its capped count straight away.
    let searched = filter
        .text
        .iter()
        .any(|t| t.op == TextOp::Contains && t.lookup.frequency != Frequency::Common);
    let few = if searched {
        let page = listed(Counting::FewFirst(FEW_MATCHES + 1)).await?;
        match page.matched {
            Some(n) if n <= FEW_MATCHES => Some(page),
            // An empty first page: nothing matches.
            None if offset == 0 => Some(page),
            // More than a few, or a page past the few read (the set may be large).
            _ => None,
        }
    } else {
        None
    };
    let (page, counting) = match few {
        Some(page) => (page, Counting::All),
        None if q.count_all => (listed(Counting::All).await?, Counting::All),
        None => {
            let cap = Counting::UpTo(COUNT_CAP + 1);
            (listed(cap).await?, cap)
        }
    };
    let matched = match page.matched {
        Some(n) => n,
        // An empty first page: nothing matches.
        None if offset == 0 => 0,
        // Past the last page (an old link): the count is asked on its own.
        None if counting == Counting::All => users::count_matching(&state.db, &filter).await?,
        None => users::count_matching_upto(&state.db, &filter, COUNT_CAP + 1).await?,
    };
    let (total, exact) = match counting {
        Counting::UpTo(_) => (matched.min(COUNT_CAP), matched <= COUNT_CAP),
        _ => (matched, true),
    };
    let rows = page
        .rows
        .into_iter()
        .map(|(user, organizations)| GridRow {
            user: user.into(),
            organizations,
        })
        .collect();
    Ok(GridPage { rows, total, exact })
}

/// The filter with, for each username or email "contains", what the search indexes
/// (PostgreSQL's 4-grams and trigrams, SQLite's FTS5) should look up (`probe`). Without a
/// sample (it could not be read) the filter is used as it is.
async fn with_lookups(state: &AppState, f: &UserFilter) -> UserFilter {
    let mut f = f.clone();
    let searched = |t: &TextFilter| {
        t.op == TextOp::Contains && matches!(t.field, TextField::Username | TextField::Email)
    };
    if !f.text.iter().any(searched) {
        return f;
    }
    let sample = state
        .key_sample
        .get(state.clock.now(), async || {
            users::key_sample(&state.db, probe::SAMPLE_ROWS).await
        })
        .await;
    match sample {
        Ok(sample) => {
            for t in f.text.iter_mut().filter(|t| searched(t)) {
                t.lookup = probe::lookup(&t.value.to_lowercase(), &sample);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not sample user keys; searching as typed"),
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> AppResult<GridQuery> {
        parse_query_string(s)
    }

    #[test]
    fn round_trips_through_the_url() {
        let g = q("view=cannot_login&email=%40x.org&email_op=starts&enabled=0&status=locked&org=3&created_from=2026-01-01&created_to=2026-01-31&sort=lastName&dir=desc").unwrap();
        assert_eq!(g.filter.view, View::CannotLogin);
        assert_eq!(
            g.filter.dates[0].to_exclusive.unwrap() - g.filter.dates[0].from.unwrap(),
            31 * 86_400
        );
        let again = q(&g.view_query()).unwrap();
        assert_eq!(again, g);
    }

    #[test]
    fn refuses_bad_values_with_a_reason() {
        for (s, msg) in [
            ("view=everyone", "no grid view"),
            ("email_op=regex&email=x", "Unknown operator"),
            ("enabled=yes", "takes 1 or 0"),
            ("status=sleepy", "Unknown authentication status"),
            ("created_from=31/01/2026", "must look like 2026-01-31"),
            (
                "updated_from=2026-02-01&updated_to=2026-01-01",
                "ends before it starts",
            ),
            ("org=-1", "not an organization id"),
        ] {
            let err = q(s).unwrap_err();
            assert!(
                err.public_message().contains(msg),
                "{s}: {}",
                err.public_message()
            );
        }
    }
}
