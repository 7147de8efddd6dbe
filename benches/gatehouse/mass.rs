//! Scenario `mass`: one "all matching" mass action through the web form, as the grid posts
//! it (`_csrf`, `all_matching=1`, the grid's filter as `q`, `confirm=1`): disable, then
//! enable, every seeded user. Reports each POST's wall time and the process's memory.

use std::time::Instant;

use anyhow::{Context, bail};
use gatehouse::store::Db;
use reqwest::StatusCode;

use crate::db::{self, BenchDb};
use crate::report::{self, Section};
use crate::seed::{self, ADMIN_PASSWORD, ADMIN_USERNAME, USERNAME_PREFIX};
use crate::server::{self, Server};
use crate::{Args, Scenario};

pub async fn run(args: &Args) -> anyhow::Result<Section> {
    let bdb = BenchDb::open(args).await?;
    let out = measure(args, &bdb).await;
    bdb.finish(args.keep).await;
    out
}

/// The grid filter whose "all matching" selection is acted on: every seeded user.
fn filter() -> String {
    format!("username={USERNAME_PREFIX}&username_op=starts")
}

/// What the grid's mass-action form carries for this filter.
pub struct GridForm {
    pub csrf: String,
    pub q: String,
    pub return_to: String,
    pub matching: String,
}

impl GridForm {
    /// The selection, as a fact of the report.
    pub fn record(&self, section: &mut Section) {
        section.fact(
            "Selection",
            format!(
                "grid filter `{}`: {} matching users (not the signed-in administrator)",
                self.q, self.matching
            ),
        );
    }
}

async fn measure(args: &Args, bdb: &BenchDb) -> anyhow::Result<Section> {
    let title = "Mass disable / enable of all matching users";
    let mut section = Section::new(Scenario::Mass, args.backend, title, args);
    seed::prepare(args, bdb, &mut section).await?;
    let server = Server::start(db::settings(&bdb.url))?;
    let session = server::sign_in(&server, ADMIN_USERNAME, ADMIN_PASSWORD).await?;
    let client = server::load_client(&session, 1)?;
    let check = bdb.connect().await?;
    let form = grid_form(&client, &server).await?;
    form.record(&mut section);
    section.columns(&[
        "action",
        "users changed",
        "wall time s",
        "VmRSS before MiB",
        "peak RSS during MiB",
        "VmRSS after MiB",
    ]);
    let mut peak_reset = true;
    for action in ["disable", "enable"] {
        let before = disabled(&check).await?;
        peak_reset &= report::reset_peak_rss();
        let (rss_before, _) = report::rss_mib();
        let started = Instant::now();
        post_mass(&client, &server, action, &form).await?;
        let secs = started.elapsed().as_secs_f64();
        let (rss_after, peak) = report::rss_mib();
        let changed = (disabled(&check).await? - before).abs();
        eprintln!("  {action}: {changed} users in {secs:.2} s, peak RSS {peak:.0} MiB");
        section.row(vec![
            action.to_owned(),
            changed.to_string(),
            format!("{secs:.2}"),
            format!("{rss_before:.0}"),
            format!("{peak:.0}"),
            format!("{rss_after:.0}"),
        ]);
    }
    section.notes.push(rss_note(args, peak_reset));
    check.close().await;
    drop(client);
    tokio::task::block_in_place(|| server.stop());
    Ok(section)
}

pub fn rss_note(args: &Args, peak_reset: bool) -> String {
    let mut note =
        "RSS is the whole benchmark process: HTTP client, the in-process server".to_owned();
    note.push_str(match args.backend {
        crate::Backend::Sqlite => " and the SQLite engine (its page cache included).",
        crate::Backend::Postgres => "; PostgreSQL's own processes are not included.",
    });
    note.push_str(if peak_reset {
        " The peak (VmHWM) is reset just before each POST, so it is the peak during that action."
    } else {
        " The kernel refused to reset VmHWM: the peak is since the process started (seeding included)."
    });
    note
}

/// The filtered grid, as the administrator sees it before choosing the mass action.
pub async fn grid_form(client: &reqwest::Client, server: &Server) -> anyhow::Result<GridForm> {
    let url = server.url(&format!("/admin/user?{}", filter()));
    let r = client.get(&url).send().await?;
    if r.status() != StatusCode::OK {
        bail!("GET {url} answered {}", r.status());
    }
    let html = r.text().await?;
    let field = |name: &str| {
        server::hidden_input(&html, name).with_context(|| format!("the grid has no {name} input"))
    };
    let count = server::text_of(&html, ".grid-count").unwrap_or_default();
    Ok(GridForm {
        csrf: field("_csrf")?,
        q: field("q")?,
        return_to: field("return")?,
        matching: count.split(' ').next().unwrap_or("?").to_owned(),
    })
}

/// One confirmed mass action; the server answers with a redirect when it is done.
pub async fn post_mass(
    client: &reqwest::Client,
    server: &Server,
    action: &str,
    form: &GridForm,
) -> anyhow::Result<()> {
    let r = client
        .post(server.url(&format!("/admin/user/mass/{action}")))
        .form(&[
            ("_csrf", form.csrf.as_str()),
            ("return", form.return_to.as_str()),
            ("q", form.q.as_str()),
            ("all_matching", "1"),
            ("confirm", "1"),
        ])
        .send()
        .await?;
    let status = r.status();
    if status != StatusCode::SEE_OTHER {
        let body = r.text().await.unwrap_or_default();
        bail!(
            "mass {action} answered {status}: {}",
            body.chars().take(300).collect::<String>()
        );
    }
    Ok(())
}

async fn disabled(db: &Db) -> anyhow::Result<i64> {
    db::count(db, "SELECT COUNT(*) FROM users WHERE enabled = FALSE").await
}
