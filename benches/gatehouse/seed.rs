//! Seeding N users fast: the app's migrations and its first administrator first (through
//! the app itself), then one set-based INSERT ... SELECT per table over a generated series
//! of integers, so no row crosses the wire. The same integer formulas run on both backends,
//! so SQLite and PostgreSQL hold the same data for the same N.
//!
//! Data (g = 1..N): username `user0000001` (7 digits), email `<username>@<one of 4 domains>`,
//! first name from 20 (NULL every 17th), last name from 25 (NULL every 13th), 10% disabled,
//! 2% locked, 1% password reset, created over the last two years, updated and last login
//! (NULL every 5th) between creation and now; all in the Default organization with
//! ROLE_USER; one shared argon2id hash of `USER_PASSWORD`.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use gatehouse::domain::PlainPassword;
use gatehouse::store::Db;
use gatehouse::users::bootstrap::{BootstrapAdmin, ensure_admin};

use crate::Backend;
use crate::db::{self, BenchDb};

pub const ADMIN_USERNAME: &str = "bench-admin";
pub const ADMIN_EMAIL: &str = "bench-admin@example.com";
pub const ADMIN_PASSWORD: &str = "Bench-Admin-123";
pub const USER_PASSWORD: &str = "Bench-User-123";

/// Every seeded username starts with this; the administrator's does not.
pub const USERNAME_PREFIX: &str = "user";

const TWO_YEARS: i64 = 2 * 365 * 86_400;

const FIRST_NAMES: &[&str] = &[
    "Alice", "Bruno", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kemal", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Yuki",
];
const LAST_NAMES: &[&str] = &[
    "Adams",
    "Berger",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Huang",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Martin",
    "Novak",
    "O'Brien",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Virtanen",
    "Weber",
    "Xu",
    "Zimmermann",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example.net",
    "corp.example",
];

pub struct Seeded {
    pub users: u64,
    pub elapsed: Duration,
    pub size_bytes: u64,
}

/// Migrates, creates the administrator, seeds `n` users and analyzes.
pub async fn seed(bdb: &BenchDb, n: u64) -> anyhow::Result<Seeded> {
    create_admin(&bdb.url).await?;
    let user_hash = tokio::task::spawn_blocking(|| {
        gatehouse::domain::password::hash(&PlainPassword::new(USER_PASSWORD))
    })
    .await?
    .map_err(|e| anyhow!("hashing: {e}"))?;
    let db = bdb.connect().await?;
    let started = Instant::now();
    match &db {
        Db::Sqlite(_) => seed_sqlite(&db, n, &user_hash).await?,
        Db::Postgres(_) => seed_postgres(&db, n, &user_hash).await?,
    }
    let elapsed = started.elapsed();
    let size_bytes = bdb.size_bytes(&db).await?;
    db.close().await;
    eprintln!(
        "seeded {n} users in {:.1} s ({} MiB on disk)",
        elapsed.as_secs_f64(),
        size_bytes >> 20
    );
    Ok(Seeded {
        users: n,
        elapsed,
        size_bytes,
    })
}

/// Migrations and the administrator, exactly as the application makes them.
async fn create_admin(url: &str) -> anyhow::Result<()> {
    let mut settings = db::settings(url);
    settings.database.max_connections = 1;
    let state = gatehouse::startup::open_state(settings).await?;
    ensure_admin(
        &state,
        &BootstrapAdmin {
            username: ADMIN_USERNAME.into(),
            email: ADMIN_EMAIL.into(),
            password: Some(ADMIN_PASSWORD.into()),
        },
    )
    .await
    .map_err(|e| anyhow!("creating {ADMIN_USERNAME}: {}", e.describe()))?;
    state.db.close().await;
    Ok(())
}

async fn seed_postgres(db: &Db, n: u64, user_hash: &str) -> anyhow::Result<()> {
    let Db::Postgres(pool) = db else {
        unreachable!("seed_postgres on a PostgreSQL pool")
    };
    let sql = insert_users_sql(Backend::Postgres, n, now());
    step("users", sqlx::query(&sql).bind(user_hash).execute(pool)).await?;
    step("memberships", async {
        db::exec(db, MEMBERSHIPS_SQL).await?;
        db::exec(db, ROLES_SQL).await
    })
    .await?;
    // VACUUM as well as ANALYZE: a long-lived table has been vacuumed by autovacuum (hint
    // bits set, visibility map filled), a freshly loaded one has not.
    step("vacuum analyze", db::exec(db, "VACUUM (ANALYZE)")).await?;
    // Writes the seeded pages out now: otherwise the checkpoint the load set off runs
    // during the first measured requests (one such run had a p99 twice its p50).
    step("checkpoint", db::exec(db, "CHECKPOINT")).await?;
    Ok(())
}

async fn seed_sqlite(db: &Db, n: u64, user_hash: &str) -> anyhow::Result<()> {
    let Db::Sqlite(pool) = db else {
        unreachable!("seed_sqlite on a SQLite pool")
    };
    let mut c = pool.acquire().await?;
    // A big page cache for the index builds; this connection is closed after seeding.
    sqlx::query("PRAGMA cache_size = -1048576")
        .execute(&mut *c)
        .await?;
    sqlx::query("PRAGMA temp_store = MEMORY")
        .execute(&mut *c)
        .await?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *c).await?;
    let sql = insert_users_sql(Backend::Sqlite, n, now());
    step("users", sqlx::query(&sql).bind(user_hash).execute(&mut *c)).await?;
    step("memberships", async {
        sqlx::query(MEMBERSHIPS_SQL).execute(&mut *c).await?;
        sqlx::query(ROLES_SQL).execute(&mut *c).await
    })
    .await?;
    step("commit", sqlx::query("COMMIT").execute(&mut *c)).await?;
    step("analyze", sqlx::query("ANALYZE").execute(&mut *c)).await?;
    step(
        "checkpoint",
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *c),
    )
    .await?;
    Ok(())
}

/// Times one seeding step on stderr.
async fn step<T, E>(name: &str, f: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    anyhow::Error: From<E>,
{
    let t = Instant::now();
    let out = f.await?;
    eprintln!("  seed {name}: {:.1} s", t.elapsed().as_secs_f64());
    Ok(out)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

// The administrator already has its memberships; every other user is a seeded one.
const MEMBERSHIPS_SQL: &str = "INSERT INTO user_organizations (user_id, organization_id) \
    SELECT u.id, o.id FROM users u CROSS JOIN organizations o \
    WHERE o.name_key = 'default' AND u.username_key <> 'bench-admin'";

const ROLES_SQL: &str = "INSERT INTO user_roles (user_id, role_id) \
    SELECT id, 2 FROM users WHERE username_key <> 'bench-admin'";

/// `INSERT INTO users ... SELECT ... FROM <1..n>`; `$1` is the password hash.
pub fn insert_users_sql(backend: Backend, n: u64, now: i64) -> String {
    let (with, from, padded) = match backend {
        Backend::Postgres => (
            String::new(),
            format!("generate_series(1::bigint, {n}::bigint) AS s(g)"),
            "lpad(s.g::text, 7, '0')",
        ),
        Backend::Sqlite => (
            format!(
                "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
            ),
            "s".to_owned(),
            "printf('%07d', s.g)",
        ),
    };
    let username = format!("('{USERNAME_PREFIX}' || {padded})");
    let email = format!("({username} || '@' || {})", pick("(s.g % 4)", DOMAINS));
    let created = format!("({now} - {TWO_YEARS} + {})", mix(2_654_435_761, TWO_YEARS));
    let span = format!("({now} - {created} + 1)");
    let columns = [
        ("username", username.clone()),
        ("username_key", username),
        ("email", email.clone()),
        ("email_key", email),
        (
            "first_name",
            nullable("s.g % 17 = 0", &pick(&mix(2_246_822_519, 20), FIRST_NAMES)),
        ),
        (
            "last_name",
            nullable("s.g % 13 = 0", &pick(&mix(3_266_489_917, 25), LAST_NAMES)),
        ),
        ("enabled", "(s.g % 10 <> 3)".into()),
        (
            "auth_status",
            "CASE WHEN s.g % 50 = 7 THEN 'locked' WHEN s.g % 100 = 11 THEN 'password_reset' \
             ELSE 'active' END"
                .into(),
        ),
        (
            "failed_login_count",
            "CASE WHEN s.g % 50 = 7 THEN 10 ELSE 0 END".into(),
        ),
        (
            "last_login_at",
            nullable(
                "s.g % 5 = 0",
                &format!("{created} + ((s.g * 69069) % {span})"),
            ),
        ),
        (
            "login_count",
            "CASE WHEN s.g % 5 = 0 THEN 0 ELSE 1 + s.g % 300 END".into(),
        ),
        ("password_hash", "$1".into()),
        ("created_at", created.clone()),
        (
            "updated_at",
            format!("{created} + ((s.g * 40503) % {span})"),
        ),
    ];
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    let values: Vec<&str> = columns.iter().map(|(_, v)| v.as_str()).collect();
    format!(
        "{with}INSERT INTO users ({}) SELECT {} FROM {from}",
        names.join(", "),
        values.join(", ")
    )
}

/// A well-spread integer in 0..m from the row number (multiplicative hash modulo a prime).
fn mix(k: u64, m: i64) -> String {
    format!("(((s.g * {k}) % 2147483647) % {m})")
}

/// One of `values` by the integer `expr` (0-based); the values are ours, quotes doubled.
fn pick(expr: &str, values: &[&str]) -> String {
    let arms: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!(" WHEN {i} THEN '{}'", v.replace('\'', "''")))
        .collect();
    format!("(CASE {expr}{arms} END)")
}

fn nullable(when_null: &str, value: &str) -> String {
    format!("(CASE WHEN {when_null} THEN NULL ELSE {value} END)")
}

/// Seeds a fresh database (or reads what an existing `--db` holds) and records the facts in
/// the report: users, seeding time, size on disk, engine version.
pub async fn prepare(
    args: &crate::Args,
    bdb: &BenchDb,
    section: &mut crate::report::Section,
) -> anyhow::Result<()> {
    if bdb.fresh {
        let s = seed(bdb, args.users).await?;
        section.fact("Users", format!("{} seeded + 1 administrator", s.users));
        section.fact(
            "Seeding",
            format!(
                "{:.1} s (users, memberships, analyze; a checkpoint on PostgreSQL), {} MiB on disk",
                s.elapsed.as_secs_f64(),
                s.size_bytes >> 20
            ),
        );
    } else {
        let db = bdb.connect().await?;
        let n = db::count(&db, "SELECT COUNT(*) FROM users").await?;
        section.fact(
            "Users",
            format!("{n} (existing database, not seeded by this run)"),
        );
        db.close().await;
    }
    let db = bdb.connect().await?;
    let mut engine = db::engine_version(&db).await?;
    if args.backend == crate::Backend::Postgres {
        engine = format!("{engine}, over {}", db::pg_transport(&bdb.url));
    }
    section.fact("Database", engine);
    db.close().await;
    Ok(())
}

/// A scenario's report, with the facts of its database (seeded now, or `--db`).
pub async fn section(
    args: &crate::Args,
    bdb: &BenchDb,
    scenario: crate::Scenario,
    title: &str,
) -> anyhow::Result<crate::report::Section> {
    let mut section = crate::report::Section::new(scenario, args.backend, title, args);
    prepare(args, bdb, &mut section).await?;
    Ok(section)
}
