//! Scenario `export`: the CSV export of every user, started as the grid's "Export" button
//! does (a POST with `_csrf` and `return`), run by the server's export worker. Reports the
//! job time from the job's own timestamps and by the wall clock, the rows and the file
//! (whose CSV records are counted afterwards), and the process's memory: idle before the
//! POST, and the peak while the job runs (VmHWM reset just before the POST).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use gatehouse::store::Db;
use reqwest::StatusCode;

use crate::db::{self, BenchDb};
use crate::mass::rss_note;
use crate::report::{self, Section};
use crate::seed::{self, ADMIN_PASSWORD, ADMIN_USERNAME};
use crate::server::{self, Server};
use crate::{Args, Scenario, fixtures};

/// How long the job may take before the run is called failed.
const JOB_LIMIT: Duration = Duration::from_secs(600);

pub async fn run(args: &Args) -> anyhow::Result<Section> {
    db::scenario(args, async |bdb| measure(args, bdb).await).await
}

#[derive(sqlx::FromRow)]
struct Job {
    status: String,
    rows_written: i64,
    file_name: Option<String>,
    file_size: Option<i64>,
    error: Option<String>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

async fn measure(args: &Args, bdb: &BenchDb) -> anyhow::Result<Section> {
    let title = "CSV export of all users (background job)";
    let mut section = seed::section(args, bdb, Scenario::Export, title).await?;
    let files = fixtures::temp_dir()?;
    let settings = fixtures::settings(&bdb.url, &files);
    let export_dir = settings.export.dir.clone();
    section.fact(
        "Fields",
        format!(
            "the default `export.fields`: {}",
            settings.export.fields.join(", ")
        ),
    );
    let server = Server::start(settings)?;
    let session = server::sign_in(&server, ADMIN_USERNAME, ADMIN_PASSWORD).await?;
    let client = server::load_client(&session, 1)?;
    let check = bdb.connect().await?;
    let grid = client
        .get(server.url("/admin/user"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = server::hidden_input(&grid, "_csrf").context("the grid has no _csrf input")?;

    let peak_reset = report::reset_peak_rss();
    let (idle, _) = report::rss_mib();
    let started = Instant::now();
    let r = client
        .post(server.url("/admin/user/export"))
        .form(&[("_csrf", csrf.as_str()), ("return", "/admin/user")])
        .send()
        .await?;
    if r.status() != StatusCode::SEE_OTHER {
        bail!("POST /admin/user/export answered {}", r.status());
    }
    let job = loop {
        let job = latest_job(&check).await?;
        if job.status == "done" || job.status == "failed" {
            break job;
        }
        if started.elapsed() > JOB_LIMIT {
            bail!("the export job is still {} after {JOB_LIMIT:?}", job.status);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    let (after, peak) = report::rss_mib();
    if job.status != "done" {
        bail!("the export failed: {}", job.error.unwrap_or_default());
    }
    let file = export_dir.join(job.file_name.as_deref().unwrap_or_default());
    let records = tokio::task::spawn_blocking(move || count_records(&file)).await??;
    let job_secs = job.finished_at.unwrap_or(0) - job.started_at.unwrap_or(0);
    let size = job.file_size.unwrap_or(0);
    eprintln!(
        "  export: {} rows ({records} CSV records) in {job_secs} s by the job, {wall:.2} s wall; \
         RSS idle {idle:.0} MiB, peak {peak:.0} MiB",
        job.rows_written
    );
    section.columns(&[
        "rows written",
        "CSV records (header excluded)",
        "file MiB",
        "job time s (started_at to finished_at)",
        "wall time s (POST to done)",
        "VmRSS idle MiB",
        "peak RSS during MiB",
        "peak above idle MiB",
        "VmRSS after MiB",
    ]);
    section.row(vec![
        job.rows_written.to_string(),
        records.to_string(),
        format!("{:.1}", size as f64 / 1_048_576.0),
        job_secs.to_string(),
        format!("{wall:.2}"),
        format!("{idle:.0}"),
        format!("{peak:.0}"),
        format!("{:.0}", peak - idle),
        format!("{after:.0}"),
    ]);
    section.notes.push(
        "The job's timestamps are whole seconds (the app's clock), so the job time is \
         within one second either way; the wall time adds the POST, the worker's wake-up and \
         this benchmark's 20 ms polling of the job row."
            .into(),
    );
    section.notes.push(rss_note(args, peak_reset));
    check.close().await;
    drop(client);
    tokio::task::block_in_place(|| server.stop());
    Ok(section)
}

async fn latest_job(db: &Db) -> anyhow::Result<Job> {
    const SQL: &str = "SELECT status, rows_written, file_name, file_size, error, started_at, \
        finished_at FROM export_jobs ORDER BY id DESC LIMIT 1";
    let job = match db {
        Db::Sqlite(p) => sqlx::query_as::<_, Job>(SQL).fetch_optional(p).await?,
        Db::Postgres(p) => sqlx::query_as::<_, Job>(SQL).fetch_optional(p).await?,
    };
    job.context("no export job was created")
}

/// CSV records in the file after its header row (a quoted newline does not split one).
fn count_records(path: &std::path::Path) -> anyhow::Result<u64> {
    let mut reader = csv::Reader::from_path(path)?;
    let mut record = csv::ByteRecord::new();
    let mut n = 0;
    while reader.read_byte_record(&mut record)? {
        n += 1;
    }
    Ok(n)
}
