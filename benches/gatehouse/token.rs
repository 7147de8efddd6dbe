//! Scenario `token`: `POST /oauth2-token` (client credentials in the form body) under
//! concurrency, against this machine's RSA-2048 signing rate from `openssl speed rsa2048`
//! (one core) taken in the same run. Every token is one RS256 signature, so that rate is
//! what the endpoint can approach on one core.

use std::sync::Arc;

use reqwest::StatusCode;

use crate::db::{self, BenchDb};
use crate::load::{self, MakeRequest};
use crate::report::Section;
use crate::seed::{self, ADMIN_USERNAME};
use crate::server::Server;
use crate::{Args, Scenario, fixtures};

pub async fn run(args: &Args) -> anyhow::Result<Section> {
    db::scenario(args, async |bdb| measure(args, bdb).await).await
}

async fn measure(args: &Args, bdb: &BenchDb) -> anyhow::Result<Section> {
    let title = "OAuth token endpoint (client credentials, RS256)";
    let mut section = seed::section(args, bdb, Scenario::Token, title).await?;
    let files = fixtures::temp_dir()?;
    let settings = fixtures::settings(&bdb.url, &files);
    let (client_id, secret) = fixtures::oauth_client(&settings).await?;
    section.fact(
        "Request",
        format!(
            "`POST /oauth2-token` with `grant_type=client_credentials`, `client_id` and \
             `client_secret` in the form body; one active application owned by `{ADMIN_USERNAME}`; \
             fresh RSA-2048 keys"
        ),
    );
    section.fact("Budget", load::budget_fact(args));
    let server = Server::start(settings)?;
    let client = load::plain_client(args)?;
    let url = server.url("/oauth2-token");
    let form = Arc::new(vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", client_id),
        ("client_secret", secret),
    ]);
    let make: MakeRequest = Arc::new(move |c: &reqwest::Client| c.post(&url).form(&*form));
    let mut rates = Vec::new();
    for &clients in &args.clients {
        let stats =
            load::warm_then_measure(&client, make.clone(), StatusCode::OK, clients, args).await;
        load::progress("token", &stats);
        rates.push(stats);
    }
    drop(client);
    tokio::task::block_in_place(|| server.stop());
    // After the load, so the two do not compete for the cores.
    let sign = tokio::task::spawn_blocking(openssl_sign_rate).await?;
    section.fact(
        "`openssl speed -seconds 3 rsa2048` (one core, after the load)",
        match sign {
            Some(s) => format!("{s:.0} signs/s"),
            None => "not available (no openssl binary)".into(),
        },
    );
    let mut columns = load::COLUMNS.to_vec();
    columns.push("% of openssl signs/s");
    section.columns(&columns);
    for stats in &rates {
        let mut row = load::row(stats);
        row.push(sign.map_or("?".into(), |s| {
            format!("{:.0}%", 100.0 * stats.per_second / s)
        }));
        section.row(row);
    }
    Ok(section)
}

/// The `sign/s` column of `openssl speed -seconds 3 rsa2048`.
fn openssl_sign_rate() -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "3", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("rsa 2048 bits"))?;
    // "rsa 2048 bits 0.000745s 0.000022s   1341.8  45791.2"
    line.split_whitespace().nth(5)?.parse().ok()
}
