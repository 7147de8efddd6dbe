//! The store speaks SQL and nothing else. One SQL text with `$n` placeholders runs on both
//! backends (SQLite accepts `$n`); where the SQL must differ, the function matches on the
//! backend in that one place.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub mod api_keys;
pub mod audit;
pub mod exports;
pub mod grid_context;
pub mod lifecycle;
pub mod nonces;
pub mod oauth_apps;
pub mod organizations;
pub mod outbox;
pub mod password_resets;
pub mod rate_limits;
pub mod sessions;
pub mod user_filter;
pub mod users;
pub mod views;

/// Runs the same expression against whichever pool it is. Each arm is compiled for its own
/// backend, so `query_as::<_, Row>` decodes natively (no `Any` driver).
macro_rules! on_db {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($p) => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}

/// The same for an open transaction: `$c` is the `&mut Connection` of the backend.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use {on_db, on_tx};

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub type StoreResult<T> = Result<T, sqlx::Error>;

/// Decodes a JSON document a statement built (`json_agg`, `json_group_array`): a list read
/// in the same round trip as the rest of a page.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(json: &str) -> StoreResult<T> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A PostgreSQL connection idle for this long is pinged before use (see `Db::connect`).
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if let Some(parent) = opts.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            // A SQLite connection is a file handle, nothing can close it behind our back:
            // sqlx's ping before each use would only be a hop to its worker thread.
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            // No parallel plans: Gatehouse runs many small statements at once, and
            // starting workers for one costs more than it saves. A search through the
            // keys' table (migration 0041) was planned with two workers and served 330
            // pages/s instead of more than 2,000 (BENCHMARKS.md).
            let opts = PgConnectOptions::from_str(url)?
                .options([("max_parallel_workers_per_gather", "0")]);
            // sqlx pings every connection it hands out, a round trip per query. Only one
            // that sat idle for a while is worth checking (the server may have closed it
            // since); one returned within the last second is handed out as it is. Under
            // load this halves the round trips of a one-query request (the token endpoint).
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_IF_IDLE_FOR {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(p) => migrate_sqlite(p).await?,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Opens a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails with
    /// "database is busy" as soon as another writer is active.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn ping(&self) -> StoreResult<()> {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))
    }

    pub async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}

/// SQLite migrations run on one connection with foreign keys off, as SQLite's own
/// procedure for rebuilding a table asks (`PRAGMA foreign_keys` cannot change inside the
/// transaction sqlx wraps each migration in; with keys on, dropping a table would cascade
/// to the rows that reference it). Every key is checked afterwards: a migration that left
/// a dangling reference stops start-up.
async fn migrate_sqlite(pool: &SqlitePool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let migrated = sqlx::migrate!("./migrations/sqlite").run(&mut *conn).await;
    let restored = sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await;
    if let Err(e) = migrated
        .as_ref()
        .map_err(|e| e.to_string())
        .and(restored.as_ref().map(|_| ()).map_err(|e| e.to_string()))
    {
        // Never hand a connection without foreign keys back to the pool.
        conn.detach();
        anyhow::bail!("migrating the SQLite database: {e}");
    }
    let dangling: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut *conn)
        .await?;
    if let Some((table,)) = dangling.first() {
        anyhow::bail!(
            "after the migrations, {} rows (first in table {table}) reference rows that do not exist",
            dangling.len()
        );
    }
    Ok(())
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// True when the error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
