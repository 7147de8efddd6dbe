//! Scenario `grid`: the users grid under concurrent GETs, for each page below and each
//! `--clients` level: a warm-up, then a measured run bounded by `--requests` and
//! `--seconds`.

use std::sync::Arc;

use reqwest::StatusCode;

use crate::db::{self, BenchDb};
use crate::load::{self, MakeRequest, Stats};
use crate::report::Section;
use crate::seed::{self, ADMIN_PASSWORD, ADMIN_USERNAME};
use crate::server::{self, Server};
use crate::{Args, Scenario};

/// (label, path): the grid pages measured.
pub const PAGES: &[(&str, &str)] = &[
    ("all, page 1", "/admin/user?view=all"),
    ("active", "/admin/user?view=active"),
    ("disabled", "/admin/user?view=disabled"),
    ("cannot login", "/admin/user?view=cannot_login"),
    ("email contains", "/admin/user?view=all&email=user00012"),
    (
        "sort last name",
        "/admin/user?view=all&sort=lastName&dir=asc",
    ),
    ("page 2,000", "/admin/user?view=all&page=2000&size=25"),
];

pub async fn run(args: &Args) -> anyhow::Result<Section> {
    let bdb = BenchDb::open(args).await?;
    let out = measure(args, &bdb).await;
    bdb.finish(args.keep).await;
    out
}

async fn measure(args: &Args, bdb: &BenchDb) -> anyhow::Result<Section> {
    let mut section = Section::new(Scenario::Grid, args.backend, "Users grid", args);
    seed::prepare(args, bdb, &mut section).await?;
    section.fact(
        "Budget",
        format!(
            "per page and client count: warm-up, then at most {} requests or {} s",
            args.requests, args.seconds
        ),
    );
    if args.explain {
        explain_pages(bdb).await?;
    }
    let server = Server::start(db::settings(&bdb.url))?;
    let session = server::sign_in(&server, ADMIN_USERNAME, ADMIN_PASSWORD).await?;
    let max_clients = args.clients.iter().copied().max().unwrap_or(1);
    let client = server::load_client(&session, max_clients)?;
    section.columns(&[
        "page", "URL", "matching", "HTML KiB", "clients", "requests", "errors", "p50 ms", "p99 ms",
        "max ms", "req/s",
    ]);
    let wanted = |label: &str| args.only.as_deref().is_none_or(|o| label.contains(o));
    for (label, path) in PAGES.iter().filter(|(label, _)| wanted(label)) {
        let url = server.url(path);
        let matching = matching_users(&client, &url).await?;
        for &clients in &args.clients {
            let stats = measure_get(&client, &url, clients, args).await;
            report_progress(label, &stats);
            section.row(row(label, path, &matching, &stats));
        }
    }
    drop(client);
    tokio::task::block_in_place(|| server.stop());
    Ok(section)
}

async fn explain_pages(bdb: &BenchDb) -> anyhow::Result<()> {
    eprintln!("query plans (one run each, no load):");
    let db = bdb.connect().await?;
    for (_, path) in PAGES {
        crate::explain::grid_page(&db, path).await?;
    }
    db.close().await;
    Ok(())
}

fn get(url: String) -> MakeRequest {
    Arc::new(move |c: &reqwest::Client| c.get(&url))
}

async fn measure_get(client: &reqwest::Client, url: &str, clients: usize, args: &Args) -> Stats {
    load::warm_then_measure(client, get(url.into()), StatusCode::OK, clients, args).await
}

/// The grid's own count ("N users, showing ..."), from one GET.
async fn matching_users(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let r = client.get(url).send().await?;
    let status = r.status();
    let html = r.text().await?;
    if status != StatusCode::OK {
        anyhow::bail!("GET {url} answered {status}");
    }
    let text = server::text_of(&html, ".grid-count").unwrap_or_default();
    Ok(text.split(' ').next().unwrap_or("?").to_owned())
}

fn report_progress(label: &str, s: &Stats) {
    load::progress(label, s);
}

fn row(label: &str, path: &str, matching: &str, s: &Stats) -> Vec<String> {
    vec![
        label.to_owned(),
        format!("`{path}`"),
        matching.to_owned(),
        format!("{:.1}", s.bytes as f64 / 1024.0),
        s.clients.to_string(),
        s.requests.to_string(),
        s.errors.to_string(),
        load::ms(s.p50),
        load::ms(s.p99),
        load::ms(s.max),
        format!("{:.1}", s.per_second),
    ]
}
