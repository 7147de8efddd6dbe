//! The query string of the `users` resource, read strictly: anything not understood is
//! refused with the parameter named, rather than ignored (a misspelt filter would otherwise
//! return everyone).

use axum::http::HeaderMap;

use super::{DEFAULT_PAGE_SIZE, MAX_FILTER_LEN, MAX_PAGE_SIZE, all_attributes, bad};
use crate::domain::query::{SortColumn, TextField, TextFilter, TextOp, UserFilter};
use crate::state::AppState;
use crate::web::api::errors::ApiError;

/// The validated query string of a request.
#[derive(Debug, Default)]
pub(super) struct Query {
    pub(super) filter: UserFilter,
    pub(super) sort: Vec<(SortColumn, bool)>,
    pub(super) page: u32,
    pub(super) size: u32,
    pub(super) fields: Option<Vec<String>>,
    /// Every parameter but `page[number]`, as sent, for the paging links.
    kept: Vec<(String, String)>,
}

/// Reads the query string. Anything not understood is refused with the parameter named,
/// rather than ignored (a misspelt filter would otherwise return everyone).
pub(super) fn parse_query(raw: Option<&str>, collection: bool) -> Result<Query, ApiError> {
    let mut q = Query {
        page: 1,
        size: DEFAULT_PAGE_SIZE,
        ..Query::default()
    };
    let pairs = crate::web::input::pairs(raw.unwrap_or("").as_bytes())
        .map_err(|e| bad(e.message()).parameter(e.field))?;
    for (i, (name, value)) in pairs.iter().enumerate() {
        let param = |detail: String| bad(detail).parameter(name.clone());
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(param(format!("{name} is given more than once.")));
        }
        if name != "page[number]" {
            q.kept.push((name.clone(), value.clone()));
        }
        match name.as_str() {
            "fields[users]" => {
                let mut list = Vec::new();
                for f in value.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    if !all_attributes().any(|a| a == f) {
                        return Err(param(format!(
                            "users have no attribute {f:?}; they have: {}.",
                            all_attributes().collect::<Vec<_>>().join(", ")
                        )));
                    }
                    list.push(f.to_owned());
                }
                q.fields = Some(list);
            }
            "include" => {
                return Err(param(
                    "include is not supported: users have no related resources here.".into(),
                ));
            }
            _ if !collection => {
                return Err(param(format!(
                    "Unknown query parameter {name:?}; a single user takes only fields[users]."
                )));
            }
            "page[number]" => {
                q.page = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| {
                        param(format!(
                            "page[number] must be a whole number from 1, not {value:?}."
                        ))
                    })?;
            }
            "page[size]" => {
                q.size = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                    .ok_or_else(|| {
                        param(format!(
                            "page[size] must be a whole number from 1 to {MAX_PAGE_SIZE}, not {value:?}."
                        ))
                    })?;
            }
            "sort" => {
                for key in value.split(',').map(str::trim) {
                    let (field, desc) = match key.strip_prefix('-') {
                        Some(f) => (f, true),
                        None => (key, false),
                    };
                    let column = SortColumn::parse(field).ok_or_else(|| {
                        param(format!(
                            "users cannot be sorted by {field:?}; sortable fields: {} (prefix - for descending).",
                            SortColumn::ALL.map(SortColumn::key).join(", ")
                        ))
                    })?;
                    q.sort.push((column, desc));
                }
            }
            "filter[username]" | "filter[email]" => {
                if value.chars().count() > MAX_FILTER_LEN {
                    return Err(param(format!(
                        "{name} is longer than {MAX_FILTER_LEN} characters."
                    )));
                }
                // An exact (case-insensitive) match, as Oro's API filters by default.
                q.filter.text.push(TextFilter {
                    field: if name == "filter[email]" {
                        TextField::Email
                    } else {
                        TextField::Username
                    },
                    op: TextOp::Is,
                    lookup: Default::default(),
                    value: value.clone(),
                });
            }
            "filter[enabled]" => {
                q.filter.enabled = Some(match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(param(format!(
                            "filter[enabled] takes true or false, not {value:?}."
                        )));
                    }
                });
            }
            _ => {
                return Err(param(format!(
                    "Unknown query parameter {name:?}; users take page[number], page[size], \
                     sort, filter[username], filter[email], filter[enabled] and fields[users]."
                )));
            }
        }
    }
    if q.sort.is_empty() {
        q.sort.push((SortColumn::Username, false));
    }
    Ok(q)
}

pub(super) fn page_link(state: &AppState, q: &Query, page: u32) -> String {
    let mut pairs = q.kept.clone();
    pairs.push(("page[number]".into(), page.to_string()));
    state.settings.public_link(&format!(
        "/api/users?{}",
        crate::users::grid::encode(&pairs)
    ))
}

/// The request header with which OroPlatform's JSON:API asks for the number of matches
/// (`X-Include: totalCount`, several values separated by `;`), and the response header
/// that carries it. Counting every match is what a list costs most at scale, so, as in
/// Oro, it is done only when asked for.
pub const INCLUDE: &str = "x-include";
pub const TOTAL_COUNT: &str = "x-include-total-count";

pub(super) fn wants_total_count(headers: &HeaderMap) -> bool {
    headers
        .get_all(INCLUDE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .any(|part| part.trim().eq_ignore_ascii_case("totalCount"))
}
