//! The database a benchmark runs against: a scratch PostgreSQL database
//! (`gatehouse_bench_<random>`, dropped at the end unless `--keep`), a temp SQLite file,
//! or an existing database named with `--db`.

use anyhow::{Context, bail};
use gatehouse::config::Settings;
use gatehouse::store::Db;
use rand::Rng;
use sqlx::Connection;

use crate::{Args, Backend};

/// The local server's Unix socket, Debian's default place.
const PG_SOCKET_DIR: &str = "/var/run/postgresql";

/// `TEST_POSTGRES_URL`, else the local server over its Unix socket, as a Gatehouse on the
/// same machine as its database would connect (TCP to 127.0.0.1 makes sqlx negotiate TLS,
/// which cost a fifth of the API's throughput here), else TCP.
pub fn pg_admin_url() -> String {
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        return url;
    }
    if std::path::Path::new(PG_SOCKET_DIR)
        .join(".s.PGSQL.5432")
        .exists()
    {
        return format!("postgres://postgres@localhost/postgres?host={PG_SOCKET_DIR}");
    }
    "postgres://postgres@127.0.0.1:5432/postgres".into()
}

/// How a PostgreSQL URL reaches the server, for the report.
pub fn pg_transport(url: &str) -> &'static str {
    if url.contains("host=/") {
        "Unix socket"
    } else if url.contains("sslmode=disable") {
        "TCP without TLS"
    } else {
        "TCP (sqlx's default sslmode=prefer: TLS when the server offers it)"
    }
}

pub struct BenchDb {
    pub url: String,
    /// Created here, empty: it needs seeding. False for `--db`.
    pub fresh: bool,
    pg_name: Option<String>,
    sqlite_dir: Option<tempfile::TempDir>,
}

impl BenchDb {
    pub async fn open(args: &Args) -> anyhow::Result<Self> {
        match &args.db {
            Some(url) => Self::existing(url, args.backend),
            None => match args.backend {
                Backend::Sqlite => Self::temp_sqlite(),
                Backend::Postgres => Self::scratch_postgres().await,
            },
        }
    }

    fn existing(url: &str, backend: Backend) -> anyhow::Result<Self> {
        let is_sqlite = url.starts_with("sqlite:");
        if is_sqlite != (backend == Backend::Sqlite) {
            bail!(
                "--db {url} is not a {} database (see --backend)",
                backend.label()
            );
        }
        Ok(Self {
            url: url.to_owned(),
            fresh: false,
            pg_name: None,
            sqlite_dir: None,
        })
    }

    fn temp_sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-bench-")
            .tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
        Ok(Self {
            url,
            fresh: true,
            pg_name: None,
            sqlite_dir: Some(dir),
        })
    }

    async fn scratch_postgres() -> anyhow::Result<Self> {
        let admin = pg_admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .with_context(|| format!("PostgreSQL unreachable at {admin} (TEST_POSTGRES_URL)"))?;
        let n: u64 = rand::thread_rng().r#gen();
        let name = format!("gatehouse_bench_{n:016x}");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let mut url = url::Url::parse(&admin)?;
        url.set_path(&name);
        Ok(Self {
            url: url.to_string(),
            fresh: true,
            pg_name: Some(name),
            sqlite_dir: None,
        })
    }

    /// Drops what was created here, or keeps it (and says where it is).
    pub async fn finish(mut self, keep: bool) {
        if keep && self.fresh {
            if let Some(dir) = self.sqlite_dir.take() {
                let _ = dir.keep();
            }
            eprintln!("kept the database: --db {}", self.url);
            return;
        }
        if let Some(name) = self.pg_name.take() {
            let dropped = async {
                let mut conn = sqlx::PgConnection::connect(&pg_admin_url()).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            }
            .await;
            if let Err(e) = dropped {
                eprintln!("could not drop the scratch database {name}: {e}");
            }
        }
    }

    /// A one-connection pool for the benchmark's own SQL (seeding, checks, sizes).
    pub async fn connect(&self) -> anyhow::Result<Db> {
        Db::connect(&self.url, 1).await
    }

    /// Database size on disk, in bytes (SQLite: the file and its WAL).
    pub async fn size_bytes(&self, db: &Db) -> anyhow::Result<u64> {
        match db {
            Db::Postgres(p) => {
                let n: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(p)
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
            Db::Sqlite(_) => {
                let path = self.url.trim_start_matches("sqlite://");
                let size = |p: String| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                Ok(size(path.to_owned()) + size(format!("{path}-wal")))
            }
        }
    }
}

/// Runs `measure` on the database of `args` (created, or `--db`), then drops or keeps it
/// whatever the outcome.
pub async fn scenario(
    args: &Args,
    measure: impl AsyncFnOnce(&BenchDb) -> anyhow::Result<crate::report::Section>,
) -> anyhow::Result<crate::report::Section> {
    let bdb = BenchDb::open(args).await?;
    let out = measure(&bdb).await;
    bdb.finish(args.keep).await;
    out
}

/// The database engine's version, for the report.
pub async fn engine_version(db: &Db) -> anyhow::Result<String> {
    Ok(match db {
        Db::Postgres(p) => {
            let v: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(p)
                .await?;
            format!("PostgreSQL {v}")
        }
        Db::Sqlite(p) => {
            let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(p)
                .await?;
            format!("SQLite {v}")
        }
    })
}

/// Runs one SQL statement (no parameters) on whichever backend.
pub async fn exec(db: &Db, sql: &str) -> anyhow::Result<u64> {
    let n = match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
    };
    Ok(n)
}

/// Runs one `SELECT COUNT(*) ...` on whichever backend.
pub async fn count(db: &Db, sql: &str) -> anyhow::Result<i64> {
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
    })
}

/// The server's settings for this database: production defaults, listening on an ephemeral
/// loopback port, no mail leaving the process.
pub fn settings(url: &str) -> Settings {
    let mut s = Settings::default();
    s.database.url = url.to_owned();
    s.server.listen = "127.0.0.1:0".parse().expect("loopback address");
    s.mailer.dsn = "null://".into();
    s
}
