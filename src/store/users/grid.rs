//! One page of users in SQL: the grid's page with its rows' organizations and its count
//! in one statement, the API's multi-column page, the counts, and the key sample the probe
//! reads.

use super::filter::{self, Bind, bind_all};
use super::{USER_COLUMNS, UserRow};
use crate::domain::query::{SortColumn, UserFilter, View};
use crate::store::{Backend, Db, StoreResult, decode_json, on_db};

/// The SQL of `count_matching_upto`, its parameters numbered from `first`.
fn count_upto_sql(backend: Backend, f: &UserFilter, cap: i64, first: usize) -> (String, Vec<Bind>) {
    let w = filter::build(f, first, backend);
    // Active Users alone matches most rows: walking the primary key finds the cap's worth in
    // about as many rows, from pages kept in shared buffers. PostgreSQL's own choice, a
    // sequential scan, reads a large table through a small ring of buffers, so it fetches
    // the same pages from the OS again on every count (0.57 ms against 0.28 ms at a million
    // users). With any other condition the walk could go far, so only then.
    let along_id = if f.is_just(View::Active) {
        " ORDER BY u.id"
    } else {
        ""
    };
    // The cap is our constant, written into the text: PostgreSQL then plans for a LIMIT
    // it knows instead of guessing one for a parameter in a cached generic plan.
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM users u WHERE {}{along_id} LIMIT {cap}) t",
        w.sql
    );
    (sql, w.binds)
}

/// Counts the users matching `f`, stopping at `cap`: an exact count of a million rows
/// costs hundreds of milliseconds per page view, a capped one a few.
pub async fn count_matching_upto(db: &Db, f: &UserFilter, cap: i64) -> StoreResult<i64> {
    let (sql, binds) = count_upto_sql(db.backend(), f, cap, 1);
    on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), &binds).fetch_one(p).await)
}

/// About `n` keys (username and email joined, as PostgreSQL's search table joins them) of
/// users picked uniformly at random, for `users::probe`: random ids between the smallest and
/// the largest, looked up by primary key (ids of deleted users find nothing). Whole pages
/// (`TABLESAMPLE SYSTEM`) would be cheaper but hold neighbours, whose keys look alike,
/// and made a rare part of a term look absent.
pub async fn key_sample(db: &Db, n: i64) -> StoreResult<Vec<String>> {
    use rand::Rng;
    const BOUNDS: &str = "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), -1) FROM users";
    let (lo, hi): (i64, i64) = on_db!(db, p => sqlx::query_as(BOUNDS).fetch_one(p).await)?;
    if hi < lo {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = if hi - lo < n {
        (lo..=hi).collect()
    } else {
        let mut rng = rand::thread_rng();
        let mut ids: Vec<i64> = (0..n).map(|_| rng.gen_range(lo..=hi)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    // Integers we drew ourselves, written into the text (SQLite has no array parameter).
    // The text is new each time: not kept among the connection's prepared statements.
    let sql = format!(
        "SELECT username_key || ' ' || email_key FROM users WHERE id IN ({})",
        filter::id_list(&ids)
    );
    on_db!(db, p => sqlx::query_scalar(&sql).persistent(false).fetch_all(p).await)
}

/// The SQL of `count_matching`, its parameters numbered from `first`.
fn count_sql(backend: Backend, f: &UserFilter, first: usize) -> (String, Vec<Bind>) {
    let w = filter::build(f, first, backend);
    (
        format!("SELECT COUNT(*) FROM users u WHERE {}", w.sql),
        w.binds,
    )
}

pub async fn count_matching(db: &Db, f: &UserFilter) -> StoreResult<i64> {
    let (sql, binds) = count_sql(db.backend(), f, 1);
    on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), &binds).fetch_one(p).await)
}

/// From this offset on, a PostgreSQL page is a deferred join (see `page_sql`). Before it
/// the rows skipped are few, and reading the page directly is one pass instead of two.
/// SQLite always takes the deferred join: for a direct read of Disabled Users it chose the
/// `(enabled, id)` index and sorted a tenth of the table (540 ms at a million users) where
/// the join's inner query walks the partial index in order.
const DEFERRED_FROM_OFFSET: i64 = 500;

/// A page query after its SELECT list: `FROM ... ORDER BY ... LIMIT ...`.
///
/// A deep page is a deferred join: the inner query finds the page's rows selecting only
/// their key, so page 2,000 (OFFSET 49,975) walks one index without touching the table;
/// only the rows shown are then read in full. Limit and offset are integers written into
/// the text, so the planner knows them (as for the count).
fn page_from_sql(
    backend: Backend,
    f: &UserFilter,
    sort: &[(SortColumn, bool)],
    limit: i64,
    offset: i64,
) -> (String, Vec<Bind>) {
    let w = filter::build(f, 1, backend);
    let order = filter::order_by_all(sort);
    let sql = if backend == Backend::Postgres && offset < DEFERRED_FROM_OFFSET {
        format!(
            "FROM users u WHERE {} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            w.sql
        )
    } else {
        let key = filter::page_key(sort);
        format!(
            "FROM users u WHERE {key} IN \
             (SELECT {key} FROM users u WHERE {} ORDER BY {order} LIMIT {limit} OFFSET {offset}) \
             ORDER BY {order}",
            w.sql
        )
    };
    (sql, w.binds)
}

/// How `grid_page` counts the users matching its filter, in the same statement as the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Read the ids of the matching set once, stopping at this many, and take both the
    /// count and the page from them: a costly search (an n-gram lookup) then runs once per
    /// page view. A count of `n` means there may be more, and the page is not the
    /// filter's (it came from the first `n` found): ask again with `UpTo`.
    FewFirst(i64),
    /// Count the matching rows, stopping at this many.
    UpTo(i64),
    /// Count every matching row.
    All,
}

/// One grid page: each row with the names of its organizations, and the count. The count
/// rides on the rows, so it is None for an empty page.
pub struct ListedPage {
    pub rows: Vec<(UserRow, Vec<String>)>,
    pub matched: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    user: UserRow,
    /// A JSON array of names, sorted.
    organizations: String,
    matched: i64,
}

/// The names of the row's organizations as a JSON array, per row of a page: a correlated
/// subquery, which both engines run after the ORDER BY and LIMIT, so only for the rows
/// shown.
fn organizations_json(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "COALESCE((SELECT json_agg(o.name ORDER BY o.name)::text FROM user_organizations uo \
             JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = u.id), '[]')"
        }
        Backend::Sqlite => {
            "(SELECT json_group_array(o.name ORDER BY o.name) FROM user_organizations uo \
             JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = u.id)"
        }
    }
}

/// What `grid_page` reads: a page of the users matching a filter, and how it counts them.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    pub filter: &'a UserFilter,
    pub sort: SortColumn,
    pub desc: bool,
    pub limit: i64,
    pub offset: i64,
    pub counting: Counting,
}

/// The SQL of `grid_page`, for the benchmark's query plans too.
pub fn grid_page_sql(backend: Backend, l: &Listing) -> (String, Vec<Bind>) {
    let Listing {
        filter: f,
        sort,
        desc,
        limit,
        offset,
        counting,
    } = *l;
    let orgs = organizations_json(backend);
    let order = filter::order_by(sort, desc);
    match counting {
        Counting::FewFirst(n) => {
            let w = filter::build(f, 1, backend);
            // MATERIALIZED: the set is read once, for the count and for the page. It
            // keeps the sort column, so the page is chosen from it and only the rows shown
            // are read again, whole.
            let col = filter::sort_key(sort);
            let sql = format!(
                "WITH m AS MATERIALIZED (SELECT u.id, {col} FROM users u WHERE {} LIMIT {n}) \
                 SELECT {USER_COLUMNS}, {orgs} AS organizations, \
                 (SELECT COUNT(*) FROM m) AS matched \
                 FROM users u WHERE u.id IN \
                 (SELECT u.id FROM m u ORDER BY {order} LIMIT {limit} OFFSET {offset}) \
                 ORDER BY {order}",
                w.sql
            );
            (sql, w.binds)
        }
        Counting::UpTo(_) | Counting::All => {
            let (page_from, mut binds) = page_from_sql(backend, f, &[(sort, desc)], limit, offset);
            let (count, count_binds) = match counting {
                Counting::UpTo(cap) => count_upto_sql(backend, f, cap, binds.len() + 1),
                _ => count_sql(backend, f, binds.len() + 1),
            };
            binds.extend(count_binds);
            let sql = format!(
                "SELECT {USER_COLUMNS}, {orgs} AS organizations, ({count}) AS matched {page_from}"
            );
            (sql, binds)
        }
    }
}

/// One page of the grid, its rows' organizations and the count of matching users, in one
/// statement: a page view is then one round trip to the database for its rows instead of
/// three (page, count, organizations), which at 64 concurrent page views was a fifth of
/// their cost (BENCHMARKS.md).
pub async fn grid_page(db: &Db, listing: &Listing<'_>) -> StoreResult<ListedPage> {
    let (sql, binds) = grid_page_sql(db.backend(), listing);
    let rows: Vec<ListedRow> = on_db!(db, p => bind_all!(sqlx::query_as::<_, ListedRow>(&sql), &binds)
        .fetch_all(p)
        .await)?;
    let matched = rows.first().map(|r| r.matched);
    let rows = rows
        .into_iter()
        .map(|r| Ok((r.user, decode_json(&r.organizations)?)))
        .collect::<StoreResult<_>>()?;
    Ok(ListedPage { rows, matched })
}

/// One page of the users matching `f`, ordered by each allow-listed column in turn.
pub async fn page_sorted(
    db: &Db,
    f: &UserFilter,
    sort: &[(SortColumn, bool)],
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<UserRow>> {
    let (from, binds) = page_from_sql(db.backend(), f, sort, limit, offset);
    let sql = format!("SELECT {USER_COLUMNS} {from}");
    on_db!(db, p => bind_all!(sqlx::query_as::<_, UserRow>(&sql), &binds)
        .fetch_all(p)
        .await)
}
