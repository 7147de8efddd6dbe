//! `cargo bench --bench gatehouse -- SCENARIO [options]`: benchmarks that seed a large
//! database, drive the real server over HTTP on 127.0.0.1 and report numbers (printed as
//! Markdown, and written into BENCHMARKS.md with `--write`). Nothing here asserts on time:
//! performance is read from the report, never enforced by a test.
//!
//! Layout (each scenario is one module with one `run` function returning a `Section`):
//! - `db`: the database to run against (scratch PostgreSQL database or temp SQLite file)
//! - `seed`: fast set-based seeding of N users, plus the administrator used to sign in
//! - `server`: the application on its own runtime, and signing in over HTTP
//! - `load`: a bounded closed-loop load generator and latency statistics
//! - `report`: Markdown sections, BENCHMARKS.md, git commit, RSS
//! - `grid`, `mass`, `reset`, `export`, `api`, `token`: the scenarios; `explain`: query
//!   plans behind the grid (`--explain`); `fixtures`: what a scenario sets up through the
//!   app's own rules (an API key, an OAuth application, key files)
//! - `mailbox`: the SMTP server of the integration tests (`tests/app/mailbox.rs`), shared
//!
//! To add a scenario: a module with `pub async fn run(args: &Args) -> anyhow::Result<Section>`,
//! a `Scenario` variant, and one arm in `run_scenario`.

#[path = "gatehouse/api.rs"]
mod api;
#[path = "gatehouse/db.rs"]
mod db;
#[path = "gatehouse/explain.rs"]
mod explain;
#[path = "gatehouse/export.rs"]
mod export;
#[path = "gatehouse/fixtures.rs"]
mod fixtures;
#[path = "gatehouse/grid.rs"]
mod grid;
#[path = "gatehouse/load.rs"]
mod load;
// The tests' loopback SMTP server, used here as the mail sink; the tests use the parts
// the benchmark does not (the .eml reader, restarting on the same port).
#[allow(dead_code)]
#[path = "../tests/app/mailbox.rs"]
mod mailbox;
#[path = "gatehouse/mass.rs"]
mod mass;
#[path = "gatehouse/report.rs"]
mod report;
#[path = "gatehouse/reset.rs"]
mod reset;
#[path = "gatehouse/seed.rs"]
mod seed;
#[path = "gatehouse/server.rs"]
mod server;
#[path = "gatehouse/token.rs"]
mod token;

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};

use report::Section;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// GET the users grid (views, a text filter, a sort, a deep page) under concurrency.
    Grid,
    /// Time one "all matching" mass disable, then enable, through the web form.
    Mass,
    /// One "all matching" mass Reset Password through the web form, then the mail worker
    /// delivering every email to a loopback SMTP server.
    Reset,
    /// The background CSV export of every user, started as the grid's Export button does.
    Export,
    /// GET /api/users?page[size]=25 with a fresh WSSE header per request, under concurrency.
    Api,
    /// POST /oauth2-token (client credentials) under concurrency, against `openssl speed rsa2048`.
    Token,
}

impl Scenario {
    pub fn key(self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Mass => "mass",
            Self::Reset => "reset",
            Self::Export => "export",
            Self::Api => "api",
            Self::Token => "token",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn key(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "gatehouse-bench",
    about = "Gatehouse benchmarks: seed a large database, load the real server on 127.0.0.1, report numbers.",
    after_help = "Examples:\n  cargo bench --bench gatehouse -- grid --backend postgres --users 1000000 --write\n  cargo bench --bench gatehouse -- mass --backend sqlite --users 100000 --write\n  cargo bench --bench gatehouse -- reset --backend postgres --users 10000 --write\n  cargo bench --bench gatehouse -- export --backend postgres --users 1000000 --write\n  cargo bench --bench gatehouse -- api --backend postgres --users 100000 --requests 100000 --seconds 15 --write\n  cargo bench --bench gatehouse -- token --backend postgres --users 1000 --requests 100000 --seconds 10 --write"
)]
pub struct Args {
    /// What to measure. Without one, this help is printed and nothing runs.
    #[arg(value_enum)]
    pub scenario: Option<Scenario>,
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: Backend,
    /// Users to seed (besides the administrator that signs in).
    #[arg(long, default_value_t = 100_000)]
    pub users: u64,
    /// Concurrent clients for load scenarios, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8,64")]
    pub clients: Vec<usize>,
    /// Most measured requests per URL and concurrency.
    #[arg(long, default_value_t = 400)]
    pub requests: usize,
    /// Most seconds of measured requests per URL and concurrency.
    #[arg(long, default_value_t = 15)]
    pub seconds: u64,
    /// Run against this already-seeded database (from an earlier `--keep`) instead of
    /// creating and seeding one. It is never dropped.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Keep the scratch database (PostgreSQL) or file (SQLite) and print its URL.
    #[arg(long)]
    pub keep: bool,
    /// Replace this scenario's section of BENCHMARKS.md with the results.
    #[arg(long)]
    pub write: bool,
    /// Print the plan and one timing of the SQL behind each page (grid) to stderr first.
    #[arg(long)]
    pub explain: bool,
    /// Grid only: measure just the pages whose label contains this text (for experiments;
    /// a partial run is not written to BENCHMARKS.md).
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
}

impl Args {
    pub fn max_time(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }

    /// The command that reproduces this run, for the report.
    pub fn command_line(&self) -> String {
        let args: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| a != "--bench")
            .collect();
        format!("cargo bench --bench gatehouse -- {}", args.join(" "))
    }
}

// The same allocator as the server binary (src/main.rs), so the server measured here
// allocates as it does in production.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(scenario) = args.scenario else {
        // `cargo bench` without arguments lands here: benchmarks are run on purpose only.
        let _ = Args::command().print_help();
        return ExitCode::SUCCESS;
    };
    // The server's warnings and errors (a 500's cause) go to stderr; GATEHOUSE_LOG as for
    // the server itself.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    // The client side gets its own runtime; the server gets another (see `server`), as if
    // they were two processes on one machine.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run_scenario(scenario, &args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_scenario(scenario: Scenario, args: &Args) -> anyhow::Result<()> {
    if args.write && args.only.is_some() {
        anyhow::bail!("--only measures part of a scenario; it is not written with --write");
    }
    let mut section: Section = match scenario {
        Scenario::Grid => grid::run(args).await?,
        Scenario::Mass => mass::run(args).await?,
        Scenario::Reset => reset::run(args).await?,
        Scenario::Export => export::run(args).await?,
        Scenario::Api => api::run(args).await?,
        Scenario::Token => token::run(args).await?,
    };
    section.finish();
    println!("{}", section.markdown());
    if args.write {
        let path = report::benchmarks_file();
        report::write_section(&path, &section)?;
        eprintln!("wrote section {} of {}", section.key, path.display());
    }
    Ok(())
}
