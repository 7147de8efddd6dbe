//! `--explain`: for each grid page, the plan of the grid's page statements as the
//! app builds them (`store::users::filter`), on the app's own database engine, and the time of
//! one run of each with no other load. Printed to stderr: a diagnosis aid, not a result.

use std::time::Instant;

use gatehouse::domain::query::TextOp;
use gatehouse::store::Db;
use gatehouse::store::users::filter::Bind;
use gatehouse::store::users::{self, Counting};
use gatehouse::users::grid::{COUNT_CAP, FEW_MATCHES, parse_query_string};

use crate::load;

/// Explains and times the COUNT and the page query behind one grid URL path.
pub async fn grid_page(db: &Db, path: &str) -> anyhow::Result<()> {
    let qs = path.split_once('?').map_or("", |(_, q)| q);
    let q = parse_query_string(qs).map_err(|e| anyhow::anyhow!(e.public_message()))?;
    // The app's own SQL text: for a search, the page read from its first few matches;
    // then the page with its capped count. (Without the probe's lookup of a search term:
    // this plans the whole term as typed, with its patterns visible to the planner.)
    let b = db.backend();
    let page = |counting| users::grid_page_sql(b, &q.listing(&q.filter, counting));
    let mut statements = Vec::new();
    if q.filter.text.iter().any(|t| t.op == TextOp::Contains) {
        statements.push(page(Counting::FewFirst(FEW_MATCHES + 1)));
    }
    statements.push(page(Counting::UpTo(COUNT_CAP + 1)));
    eprintln!("  {path}");
    for (sql, binds) in statements {
        let plan = explain(db, &sql, &binds).await?;
        let started = Instant::now();
        run(db, &sql, &binds).await?;
        eprintln!("    {} ms: {sql}", load::ms(started.elapsed()));
        for line in plan {
            eprintln!("      {line}");
        }
    }
    Ok(())
}

async fn explain(db: &Db, sql: &str, binds: &[Bind]) -> anyhow::Result<Vec<String>> {
    Ok(match db {
        Db::Sqlite(p) => {
            let e = format!("EXPLAIN QUERY PLAN {sql}");
            let rows: Vec<(i64, i64, i64, String)> =
                bind_sqlite(sqlx::query_as(&e), binds).fetch_all(p).await?;
            rows.into_iter().map(|r| r.3).collect()
        }
        Db::Postgres(p) => {
            let e = format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}");
            bind_pg(sqlx::query_scalar(&e), binds).fetch_all(p).await?
        }
    })
}

async fn run(db: &Db, sql: &str, binds: &[Bind]) -> anyhow::Result<()> {
    match db {
        Db::Sqlite(p) => {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = match b {
                    Bind::Text(s) => q.bind(s.clone()),
                    Bind::Int(i) => q.bind(*i),
                    Bind::Bool(v) => q.bind(*v),
                };
            }
            q.fetch_all(p).await?;
        }
        Db::Postgres(p) => {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = match b {
                    Bind::Text(s) => q.bind(s.clone()),
                    Bind::Int(i) => q.bind(*i),
                    Bind::Bool(v) => q.bind(*v),
                };
            }
            q.fetch_all(p).await?;
        }
    }
    Ok(())
}

type SqliteAs<'q, T> = sqlx::query::QueryAs<'q, sqlx::Sqlite, T, sqlx::sqlite::SqliteArguments<'q>>;
type PgScalar<'q> =
    sqlx::query::QueryScalar<'q, sqlx::Postgres, String, sqlx::postgres::PgArguments>;

fn bind_sqlite<'q, T>(mut q: SqliteAs<'q, T>, binds: &[Bind]) -> SqliteAs<'q, T> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.clone()),
            Bind::Int(i) => q.bind(*i),
            Bind::Bool(v) => q.bind(*v),
        };
    }
    q
}

fn bind_pg<'q>(mut q: PgScalar<'q>, binds: &[Bind]) -> PgScalar<'q> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.clone()),
            Bind::Int(i) => q.bind(*i),
            Bind::Bool(v) => q.bind(*v),
        };
    }
    q
}
