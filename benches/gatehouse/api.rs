//! Scenario `api`: `GET /api/users?page[size]=25` as the administrator, authenticated with
//! WSSE: the administrator's API key is generated as "Generate Key" does, and every request
//! carries a header computed here (independently of the server's code) with a fresh random
//! nonce and the current time, since the server refuses a nonce it has seen.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use reqwest::StatusCode;
use sha1::{Digest, Sha1};

use crate::db::{self, BenchDb};
use crate::load::{self, MakeRequest};
use crate::report::Section;
use crate::seed::{self, ADMIN_USERNAME};
use crate::server::Server;
use crate::{Args, Scenario, fixtures};

pub const PATH: &str = "/api/users?page[size]=25";

pub async fn run(args: &Args) -> anyhow::Result<Section> {
    db::scenario(args, async |bdb| measure(args, bdb).await).await
}

async fn measure(args: &Args, bdb: &BenchDb) -> anyhow::Result<Section> {
    let title = "JSON:API users list with WSSE";
    let mut section = seed::section(args, bdb, Scenario::Api, title).await?;
    let files = fixtures::temp_dir()?;
    let settings = fixtures::settings(&bdb.url, &files);
    let key = fixtures::admin_api_key(&settings).await?;
    section.fact(
        "Request",
        format!(
            "`GET {PATH}` as `{ADMIN_USERNAME}` (administrator: every user of the organization), \
             `X-WSSE` computed per request with a new 16-byte nonce"
        ),
    );
    section.fact("Budget", load::budget_fact(args));
    let server = Server::start(settings)?;
    let client = load::plain_client(args)?;
    let url = server.url(PATH);
    let total = first_page(&client, &url, &key).await?;
    section.fact("Matching (meta.totalCount)", total);
    section.columns(load::COLUMNS);
    for &clients in &args.clients {
        let stats =
            load::warm_then_measure(&client, request(&url, &key), StatusCode::OK, clients, args)
                .await;
        load::progress("api users", &stats);
        section.row(load::row(&stats));
    }
    drop(client);
    tokio::task::block_in_place(|| server.stop());
    Ok(section)
}

fn request(url: &str, key: &str) -> MakeRequest {
    let (url, key) = (url.to_owned(), key.to_owned());
    Arc::new(move |c: &reqwest::Client| c.get(&url).header("X-WSSE", wsse_header(&key)))
}

/// `UsernameToken` with PasswordDigest = base64(sha1(nonce bytes + Created + key)).
fn wsse_header(key: &str) -> String {
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let created = time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default();
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(created.as_bytes());
    h.update(key.as_bytes());
    format!(
        r#"UsernameToken Username="{ADMIN_USERNAME}", PasswordDigest="{}", Nonce="{}", Created="{created}""#,
        STANDARD.encode(h.finalize()),
        STANDARD.encode(nonce)
    )
}

/// One request before the load, so a refusal stops the run with the server's reason;
/// returns the list's `meta.totalCount` (asked for with `X-Include`, which the measured
/// requests do not send, as most clients would not).
async fn first_page(client: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<String> {
    let r = client
        .get(url)
        .header("X-WSSE", wsse_header(key))
        .header("X-Include", "totalCount")
        .send()
        .await?;
    let status = r.status();
    let body = r.text().await?;
    if status != StatusCode::OK {
        anyhow::bail!("GET {url} answered {status}: {body}");
    }
    let doc: serde_json::Value = serde_json::from_str(&body)?;
    Ok(doc["meta"]["totalCount"].to_string())
}
