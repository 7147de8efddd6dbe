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
    let private_key = settings.oauth.private_key.clone();
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
    // After the load, so they do not compete with it for the cores.
    let sign = tokio::task::spawn_blocking(openssl_sign_rate).await?;
    section.fact(
        "`openssl speed -seconds 3 rsa2048` (one core, after the load)",
        match sign {
            Some(s) => format!("{s:.0} signs/s"),
            None => "not available (no openssl binary)".into(),
        },
    );
    let private_key = std::fs::read(&private_key)?;
    let app = tokio::task::spawn_blocking(move || app_sign_rate(&private_key)).await??;
    section.fact(
        "aws-lc-rs (the app's signer) on the same key, one core for 3 s, after the load",
        format!("{app:.0} signs/s"),
    );
    let mut columns = load::COLUMNS.to_vec();
    columns.extend(["% of openssl signs/s", "% of aws-lc-rs signs/s"]);
    section.columns(&columns);
    let percent = |rate: f64, of: f64| format!("{:.0}%", 100.0 * rate / of);
    for stats in &rates {
        let mut row = load::row(stats);
        row.push(sign.map_or("?".into(), |s| percent(stats.per_second, s)));
        row.push(percent(stats.per_second, app));
        section.row(row);
    }
    section.notes.push(
        "Every token costs one RSA-2048 signature (aws-lc-rs, in `oauth_keys`), plus one \
         query for the application, its owner and organization (and an update of its \
         `last_used_at` at most once a minute); the load generator, the server \
         and the database share the 2 cores. Both signing rates are one core's."
            .into(),
    );
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

/// RS256 signatures per second with aws-lc-rs, as `oauth_keys` makes them (PKCS#1 v1.5,
/// SHA-256), on one core: what the endpoint's signing costs, next to OpenSSL's figure.
fn app_sign_rate(private_pem: &[u8]) -> anyhow::Result<f64> {
    use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    let block = pem::parse(private_pem)?;
    let key = match block.tag() {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(block.contents()),
        _ => RsaKeyPair::from_der(block.contents()),
    }
    .map_err(|e| anyhow::anyhow!("the private key: {e}"))?;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut signature = vec![0; key.public_modulus_len()];
    let started = std::time::Instant::now();
    let mut n = 0u32;
    while started.elapsed() < std::time::Duration::from_secs(3) {
        key.sign(&RSA_PKCS1_SHA256, &rng, b"header.claims", &mut signature)
            .map_err(|e| anyhow::anyhow!("signing: {e}"))?;
        n += 1;
    }
    Ok(f64::from(n) / started.elapsed().as_secs_f64())
}
