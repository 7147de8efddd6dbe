//! The store speaks SQL and nothing else. One SQL text with `$n` placeholders runs on both
//! backends (SQLite accepts `$n`); where the SQL must differ, the function matches on the
//! backend in that one place.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::watch;

pub mod api_keys;
pub mod audit;
pub mod exports;
pub mod jobs;
pub mod nonces;
pub mod oauth;
pub mod organizations;
pub mod outbox;
pub mod passwords;
pub mod sessions;
pub mod throttle;
pub mod users;

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
        match &mut $tx.inner {
            $crate::store::TxInner::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::TxInner::Postgres(t) => {
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

/// An open write transaction. One that queued background work (an email, an export)
/// raises its `WorkSignal` when, and only when, it commits.
pub struct Tx {
    pub(crate) inner: TxInner,
    signal: Option<WorkSignal>,
    queued: bool,
}

pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Wakes this process's job runners after a commit that queued work. Only a shortcut:
/// runners also poll, which is how work queued by other processes is found. A counter in
/// a `watch` channel, so a raise while every runner is busy is not lost.
#[derive(Clone, Debug)]
pub struct WorkSignal(Arc<watch::Sender<u64>>);

impl Default for WorkSignal {
    fn default() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }
}

impl WorkSignal {
    pub fn raise(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver whose `changed()` resolves at the next raise.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
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
        let inner = match self {
            Db::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            signal: None,
            queued: false,
        })
    }

    /// `begin`, with the signal to raise if the transaction queues work and commits.
    pub async fn begin_signalling(&self, signal: &WorkSignal) -> StoreResult<Tx> {
        let mut tx = self.begin().await?;
        tx.signal = Some(signal.clone());
        Ok(tx)
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
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Marks that this transaction queued work for a runner (store functions that insert
    /// into a queue call it).
    pub(crate) fn queued_work(&mut self) {
        self.queued = true;
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        if self.queued
            && let Some(signal) = &self.signal
        {
            signal.raise();
        }
        Ok(())
    }
}

/// True when the error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
