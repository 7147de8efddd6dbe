//! Token endpoint throughput against `openssl speed rsa2048`, in one run:
//!
//! ```sh
//! cargo run --release --example token_bench -- [SECONDS] [CONCURRENCY] [DATABASE_URL]
//! ```
//!
//! Starts Gatehouse on a random loopback port with a fresh SQLite database (or the given
//! URL, e.g. a scratch PostgreSQL database) and fresh keys in a temp directory, adds one
//! application, then has CONCURRENCY clients (default 64) fetch tokens for SECONDS
//! (default 10) over HTTP. Afterwards it runs `openssl speed -seconds 3 rsa2048` (one
//! core) and prints both rates and their ratio. The clients share the machine with the
//! server, as a benchmark on one box does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gatehouse::accounts::Actor;
use gatehouse::accounts::bootstrap::BootstrapAdmin;
use gatehouse::accounts::oauth_apps::{self, AppInput, Caller};
use gatehouse::accounts::oauth_keys;
use gatehouse::config::Settings;
use gatehouse::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().map_or(Ok(10), |s| s.parse())?;
    let clients: usize = args.get(1).map_or(Ok(64), |s| s.parse())?;
    let dir = tempfile::tempdir()?;

    let mut settings = Settings::default();
    settings.database.url = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    settings.server.listen = "127.0.0.1:0".parse()?;
    settings.oauth.private_key = dir.path().join("oauth_private.key");
    settings.oauth.public_key = dir.path().join("oauth_public.key");
    oauth_keys::generate_files(
        &settings.oauth.private_key,
        &settings.oauth.public_key,
        false,
    )?;
    let app = Application::build(
        settings,
        &BootstrapAdmin {
            username: "admin".into(),
            email: "admin@example.com".into(),
            password: Some("Bench-pass-123".into()),
        },
    )
    .await?;
    let url = format!("http://{}/oauth2-token", app.local_addr());
    let state = app.state().clone();
    let actor = Actor::system("bench");
    let caller = Caller {
        actor: &actor,
        is_admin: true,
    };
    let input = AppInput {
        name: "bench".into(),
        active: true,
        organization: None,
    };
    let creds = oauth_apps::create(&state, caller, 1, &input)
        .await
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    let (id, secret) = (
        creds.app.client_id.clone(),
        creds.secret.expose().to_owned(),
    );
    tokio::spawn(app.run(std::future::pending()));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let form = Arc::new(vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("client_id".to_owned(), id),
        ("client_secret".to_owned(), secret),
    ]);
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, form) = (client.clone(), url.clone(), form.clone());
        let (ok, failed, counting, stop) =
            (ok.clone(), failed.clone(), counting.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = client.post(&url).form(&*form).send().await;
                let good = match r {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if counting.load(Ordering::Relaxed) {
                    if good { &ok } else { &failed }.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // One second of warm-up (connections, caches), then the measured window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let rate = ok.load(Ordering::Relaxed) as f64 / elapsed;
    println!(
        "token endpoint: {rate:.0} tokens/s ({} ok, {} failed, {clients} clients, {elapsed:.1} s, {:?})",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        state.db.backend(),
    );

    match openssl_sign_rate() {
        Some(sign) => println!(
            "openssl speed rsa2048: {sign:.0} signs/s (one core); token endpoint at {:.0}% of it",
            100.0 * rate / sign
        ),
        None => println!("openssl speed rsa2048: not available (no openssl binary)"),
    }
    Ok(())
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
