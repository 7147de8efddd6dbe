//! Reports: a Markdown section per scenario and backend, printed, and with `--write` put in
//! BENCHMARKS.md between `<!-- bench:SCENARIO:BACKEND -->` and `<!-- /bench:... -->`
//! (replaced when present, appended otherwise). Also the git commit and the process's RSS.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Args, Backend, Scenario};

pub struct Section {
    /// `grid:postgres`: the marker name in BENCHMARKS.md.
    pub key: String,
    pub title: String,
    /// "label: value" lines under the title.
    pub facts: Vec<(String, String)>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Section {
    /// A section with the facts every report carries: command, date, commit.
    pub fn new(scenario: Scenario, backend: Backend, title: &str, args: &Args) -> Self {
        let mut s = Self {
            key: format!("{}:{}", scenario.key(), backend.key()),
            title: format!("{title} — {}", backend.label()),
            facts: Vec::new(),
            header: Vec::new(),
            rows: Vec::new(),
            notes: Vec::new(),
        };
        s.fact("Command", format!("`{}`", args.command_line()));
        s.fact("Date", today());
        s.fact("Commit", format!("`{}`", git_commit()));
        s.fact("Load average at start", load_average());
        s
    }

    /// Closes the report with the machine's load at the end (other builds may share it).
    pub fn finish(&mut self) {
        self.fact("Load average at end", load_average());
    }

    pub fn fact(&mut self, label: &str, value: impl Into<String>) {
        self.facts.push((label.to_owned(), value.into()));
    }

    pub fn columns(&mut self, names: &[&str]) {
        self.header = names.iter().map(|s| (*s).to_owned()).collect();
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        for (label, value) in &self.facts {
            out.push_str(&format!("- {label}: {value}\n"));
        }
        out.push('\n');
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        out.push_str(&line(&self.header));
        out.push_str(&line(&vec!["---".to_owned(); self.header.len()]));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        for n in &self.notes {
            out.push_str(&format!("\n{n}\n"));
        }
        out
    }
}

pub fn benchmarks_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md")
}

const FILE_HEADER: &str = "# Benchmarks

Numbers from `benches/gatehouse.rs`, a `harness = false` benchmark command (not a test:
nothing asserts on time). Each scenario seeds a fresh database with set-based SQL, starts the
real server in-process with `Application::build` on `127.0.0.1:0`, signs in over HTTP as a
browser does (login form, `_csrf` token, session cookie) and drives it over loopback HTTP.

**Machine:** 2 cores, 24 GiB of memory, local disk. Client and server share the machine
(and PostgreSQL runs on it too), each with its own tokio runtime of 2 worker threads, so
every number includes the load generator's own CPU use. Other builds may have been running
at the same time: compare runs on the same machine, not across machines. PostgreSQL runs
with its stock configuration (`shared_buffers = 128MB`); SQLite in WAL mode as the app
configures it. The server keeps the default pool of 10 database connections.

## How to run

```sh
# users grid under 8 and 64 concurrent clients (GET only)
cargo bench --bench gatehouse -- grid --backend postgres --users 1000000 --write
cargo bench --bench gatehouse -- grid --backend sqlite --users 1000000 --write
# one \"all matching\" mass disable, then enable, through the web form
cargo bench --bench gatehouse -- mass --backend postgres --users 100000 --write
cargo bench --bench gatehouse -- mass --backend sqlite --users 100000 --write
# one \"all matching\" mass Reset Password through the web form (10,000 users), then the
# mail worker delivering every email to a loopback SMTP server
cargo bench --bench gatehouse -- reset --backend postgres --users 10000 --write
cargo bench --bench gatehouse -- reset --backend sqlite --users 10000 --write
# the background CSV export of every user, started as the grid's Export button does
cargo bench --bench gatehouse -- export --backend postgres --users 1000000 --write
cargo bench --bench gatehouse -- export --backend sqlite --users 1000000 --write
# GET /api/users?page[size]=25 with a fresh WSSE header per request
cargo bench --bench gatehouse -- api --backend postgres --users 100000 --clients 8,64 --requests 100000 --seconds 15 --write
cargo bench --bench gatehouse -- api --backend sqlite --users 100000 --clients 8,64 --requests 100000 --seconds 15 --write
# POST /oauth2-token (client credentials), then `openssl speed -seconds 3 rsa2048`
cargo bench --bench gatehouse -- token --backend postgres --users 1000 --clients 8,64 --requests 100000 --seconds 10 --write
cargo bench --bench gatehouse -- token --backend sqlite --users 1000 --clients 8,64 --requests 100000 --seconds 10 --write
```

PostgreSQL: a scratch database `gatehouse_bench_<random>` is created on
`postgres://postgres@127.0.0.1:5432/postgres` (override with `TEST_POSTGRES_URL`) and dropped
at the end; `--keep` keeps it (or the temp SQLite file) and prints `--db URL`, which later
runs accept to skip seeding. Other options: `--clients 8,64`, `--requests 400` and
`--seconds 15` (the per-URL budget, whichever ends first), `--help` for all. `--write`
replaces the scenario's section below (between its `<!-- bench:... -->` markers).

Latencies are per request, from sending it to having read the whole body; p50/p99 are
nearest-rank over the measured requests (after a warm-up of a few rounds per client).
A response other than the expected status (200 for pages, 303 after a form) is an error.
";

/// Puts `section` into the file between its markers, creating the file if needed.
pub fn write_section(path: &Path, section: &Section) -> anyhow::Result<()> {
    let current = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FILE_HEADER.to_owned(),
        Err(e) => return Err(e.into()),
    };
    let updated = replace_section(&current, &section.key, &section.markdown());
    std::fs::write(path, updated)?;
    Ok(())
}

fn replace_section(doc: &str, key: &str, body: &str) -> String {
    let open = format!("<!-- bench:{key} -->");
    let close = format!("<!-- /bench:{key} -->");
    let block = format!("{open}\n{}\n{close}", body.trim_end());
    match (doc.find(&open), doc.find(&close)) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{block}{}", &doc[..start], &doc[end + close.len()..])
        }
        _ => format!(
            "{}\n{block}\n",
            doc.trim_end_matches('\n').to_owned() + "\n"
        ),
    }
}

/// The 1, 5 and 15 minute load averages, from /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn today() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

/// The commit benchmarked; `+dirty` when files other than BENCHMARKS.md differ from it.
pub fn git_commit() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".into();
    };
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .unwrap_or_default()
        .lines()
        .any(|l| !l.ends_with("BENCHMARKS.md"));
    if dirty {
        format!("{commit}+dirty")
    } else {
        commit
    }
}

/// (VmRSS, VmHWM) of this process in MiB, from /proc/self/status.
pub fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets VmHWM to the current RSS (Linux: `5` into /proc/self/clear_refs), so the next
/// reading is the peak of what follows. False when the kernel refuses.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
