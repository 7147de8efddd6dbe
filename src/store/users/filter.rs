//! Turns a `UserFilter` into SQL. The only text that reaches SQL comes from enums and
//! integers here; every value the user typed is a bound parameter, numbered `$n` (which
//! both backends accept).

use crate::domain::query::{DateField, Frequency, SortColumn, TextField, TextOp, UserFilter, View};
use crate::store::Backend;

#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// A WHERE clause (without the keyword; "TRUE" when empty) and its parameters, numbered
/// from `first`.
pub struct Where {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl Where {
    /// Placeholder for the next parameter after this clause's own.
    pub fn next_placeholder(&self, first: usize) -> usize {
        first + self.binds.len()
    }
}

/// Escapes LIKE wildcards so a typed `%` or `_` matches itself.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The filter as SQL for `backend`, with the conditions its indexes need (on PostgreSQL a
/// "contains" on username or email adds the condition its search index serves).
pub fn build(f: &UserFilter, first: usize, backend: Backend) -> Where {
    let pg = backend == Backend::Postgres;
    let mut parts: Vec<String> = Vec::new();
    let mut binds = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", first + binds.len() - 1)
    };

    match f.view {
        View::All => {}
        View::Active => parts.push("u.enabled = TRUE AND u.auth_status = 'active'".into()),
        View::Disabled => parts.push("u.enabled = FALSE".into()),
        View::CannotLogin => parts.push("(u.enabled = FALSE OR u.auth_status <> 'active')".into()),
    }
    for t in &f.text {
        // Usernames and emails are matched on their lower-cased key columns (indexed);
        // names through LOWER(), which is ASCII-only on SQLite.
        let col = match t.field {
            TextField::Username => "u.username_key",
            TextField::Email => "u.email_key",
            TextField::FirstName => "LOWER(u.first_name)",
            TextField::LastName => "LOWER(u.last_name)",
        };
        let v = t.value.to_lowercase();
        match t.op {
            TextOp::Is => {
                let p = next(Bind::Text(v), &mut binds);
                parts.push(format!("{col} = {p}"));
            }
            TextOp::StartsWith => {
                let p = next(Bind::Text(format!("{}%", like_escape(&v))), &mut binds);
                parts.push(format!("{col} LIKE {p} ESCAPE '\\'"));
            }
            TextOp::Contains => {
                let key = match t.field {
                    TextField::Username => Some("username_key"),
                    TextField::Email => Some("email_key"),
                    TextField::FirstName | TextField::LastName => None,
                };
                // When few rows hold the term, the index is PostgreSQL's best plan whatever
                // it is, so the patterns are hidden from its planner (an InitPlan's value
                // is not known when planning): every such search then costs the same, and
                // PostgreSQL keeps one plan for the statement instead of planning each
                // search anew (about a sixth of a search page's CPU in BENCHMARKS.md).
                let rare = pg && key.is_some() && t.lookup.frequency == Frequency::Rare;
                let fixed = |e: String| if rare { format!("(SELECT {e})") } else { e };
                let p = next(Bind::Text(format!("%{}%", like_escape(&v))), &mut binds);
                parts.push(format!("{col} LIKE {} ESCAPE '\\'", fixed(p)));
                let Some(key) = key else { continue };
                if t.lookup.frequency == Frequency::Common {
                    // Reading users in the page's order finds matches sooner.
                    continue;
                }
                // Implied by the LIKE (so is any part of the term: `users::probe` picks the
                // cheapest), and what each backend's index serves.
                let looked_up = t.lookup.part.as_deref().unwrap_or(&v);
                let chars = looked_up.chars().count();
                if pg {
                    // The keys' own table (migration 0041) holds both keys joined: a
                    // substring of either key is a substring of both joined.
                    let found = if chars >= 4 {
                        let p = next(Bind::Text(text_array(&four_grams(looked_up))), &mut binds);
                        format!(
                            "gatehouse_4grams(s.keys) @> {}",
                            fixed(format!("{p}::text[]"))
                        )
                    } else if chars == 3 && looked_up.chars().all(|c| c.is_ascii_alphanumeric()) {
                        // pg_trgm splits words at other characters: for "a.b" it would
                        // look up nothing and return every row.
                        let p = next(
                            Bind::Text(format!("%{}%", like_escape(looked_up))),
                            &mut binds,
                        );
                        format!("s.keys LIKE {} ESCAPE '\\'", fixed(p))
                    } else {
                        continue;
                    };
                    parts.push(format!(
                        "u.id IN (SELECT s.user_id FROM user_search s WHERE {found})"
                    ));
                } else if chars >= 3 {
                    // SQLite's FTS5 trigram table (migration 0040): a phrase in that key's
                    // column matches where it is a substring. Shorter terms have no
                    // trigram: the LIKE alone reads every key.
                    let p = next(Bind::Text(fts_phrase(key, looked_up)), &mut binds);
                    parts.push(format!(
                        "u.id IN (SELECT rowid FROM user_keys_search WHERE user_keys_search MATCH {p})"
                    ));
                }
            }
        }
    }
    if let Some(e) = f.enabled {
        let p = next(Bind::Bool(e), &mut binds);
        parts.push(format!("u.enabled = {p}"));
    }
    if let Some(s) = f.status {
        let p = next(Bind::Text(s.as_str().into()), &mut binds);
        parts.push(format!("u.auth_status = {p}"));
    }
    if let Some(o) = f.organization {
        let p = next(Bind::Int(o.get()), &mut binds);
        parts.push(format!(
            "EXISTS (SELECT 1 FROM user_organizations uo WHERE uo.user_id = u.id AND uo.organization_id = {p})"
        ));
    }
    for d in &f.dates {
        let col = match d.field {
            DateField::LastLogin => "u.last_login_at",
            DateField::CreatedAt => "u.created_at",
            DateField::UpdatedAt => "u.updated_at",
        };
        if let Some(from) = d.from {
            let p = next(Bind::Int(from), &mut binds);
            parts.push(format!("{col} >= {p}"));
        }
        if let Some(to) = d.to_exclusive {
            let p = next(Bind::Int(to), &mut binds);
            parts.push(format!("{col} < {p}"));
        }
    }
    if let Some(orgs) = &f.within {
        // Integers from the rules, not from the request.
        let list = if orgs.is_empty() {
            "NULL".to_owned()
        } else {
            id_list(orgs)
        };
        parts.push(format!(
            "EXISTS (SELECT 1 FROM user_organizations uo WHERE uo.user_id = u.id AND uo.organization_id IN ({list})) \
             AND NOT EXISTS (SELECT 1 FROM user_organizations uo WHERE uo.user_id = u.id AND uo.organization_id NOT IN ({list}))"
        ));
    }
    if let Some(ids) = &f.ids {
        if ids.is_empty() {
            parts.push("FALSE".into());
        } else {
            parts.push(format!("u.id IN ({})", id_list(ids)));
        }
    }
    Where {
        sql: if parts.is_empty() {
            "TRUE".into()
        } else {
            parts.join(" AND ")
        },
        binds,
    }
}

/// The distinct runs of four characters in `s`: what the SQL function `gatehouse_4grams`
/// (migration 0041) indexes for each key, computed here for a search term so PostgreSQL
/// does not run that function (planned anew on each call) for every search.
pub fn four_grams(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut grams: Vec<String> = chars.windows(4).map(|w| w.iter().collect()).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// A PostgreSQL array literal of texts, each element quoted, for a `text[]` parameter
/// passed as text (SQLite has no array parameter, and one list of binds serves both).
fn text_array(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| format!("\"{}\"", i.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// An FTS5 query for `term` as a substring of `column`: one string, its double quotes
/// doubled, so nothing typed is read as query syntax.
fn fts_phrase(column: &str, term: &str) -> String {
    format!("{column} : \"{}\"", term.replace('"', "\"\""))
}

/// `ids` for `IN (...)`: integers formatted here, never text from a request (an id list
/// may be long, and each bound parameter would count against the backends' limits).
/// Ids written into SQL text: integers, so never user text.
pub(crate) fn id_list<T: Copy + Into<i64>>(ids: &[T]) -> String {
    ids.iter()
        .map(|&id| id.into().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A sort column's SQL, whether it is unique (and NOT NULL: then it orders the rows fully
/// and needs no tie-break) and whether it may hold NULLs.
fn sort_column(sort: SortColumn) -> (&'static str, bool, bool) {
    match sort {
        SortColumn::Username => ("u.username_key", true, false),
        SortColumn::Email => ("u.email_key", true, false),
        SortColumn::FirstName => ("u.first_name", false, true),
        SortColumn::LastName => ("u.last_name", false, true),
        SortColumn::Enabled => ("u.enabled", false, false),
        SortColumn::AuthStatus => ("u.auth_status", false, false),
        SortColumn::LastLogin => ("u.last_login_at", false, true),
        SortColumn::CreatedAt => ("u.created_at", false, false),
        SortColumn::UpdatedAt => ("u.updated_at", false, false),
    }
}

/// A sort column's SQL (`u.` and the column's name).
pub fn sort_key(sort: SortColumn) -> &'static str {
    sort_column(sort).0
}

/// ORDER BY for a sort column: NULLs last ascending and first descending, the same on both
/// backends (PostgreSQL's index order; SQLite sorts NULLs first by default, so the clause
/// is what makes them agree), then the id as tie-break so paging is stable.
pub fn order_by(sort: SortColumn, desc: bool) -> String {
    order_by_all(&[(sort, desc)])
}

/// ORDER BY for several sort columns in turn (the API's `sort=a,-b`); the id tie-break
/// follows the first column's direction. An empty list sorts by id.
///
/// A unique key (username, email) orders the rows fully, so nothing follows it: the
/// unique index alone then serves the ORDER BY (an extra `id` would need an index on
/// both). NOT NULL columns need no NULLS clause.
pub fn order_by_all(keys: &[(SortColumn, bool)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for &(sort, desc) in keys {
        let (col, unique, nullable) = sort_column(sort);
        parts.push(match (desc, nullable) {
            (false, true) => format!("{col} ASC NULLS LAST"),
            (true, true) => format!("{col} DESC NULLS FIRST"),
            (false, false) => format!("{col} ASC"),
            (true, false) => format!("{col} DESC"),
        });
        if unique {
            return parts.join(", ");
        }
    }
    let first_desc = keys.first().is_some_and(|&(_, desc)| desc);
    parts.push(if first_desc { "u.id DESC" } else { "u.id ASC" }.into());
    parts.join(", ")
}

/// The column that identifies a row of a page in this order: the unique sort key when the
/// order starts with one (its unique index holds nothing else), else the id (the sort
/// indexes are on (column, id)). Selecting only it lets the database skip to a deep page
/// on the index alone.
pub fn page_key(keys: &[(SortColumn, bool)]) -> &'static str {
    match keys.first().map(|&(s, _)| sort_column(s)) {
        Some((col, true, _)) => col,
        _ => "u.id",
    }
}

/// Binds a filter's parameters onto a query, in order. A macro because sqlx's query
/// types differ per backend and per query kind.
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                $crate::store::users::filter::Bind::Text(s) => q.bind(s.clone()),
                $crate::store::users::filter::Bind::Int(i) => q.bind(*i),
                $crate::store::users::filter::Bind::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}
pub(crate) use bind_all;
