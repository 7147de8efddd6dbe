//! A closed-loop load generator: `clients` tasks each send a request, read the whole body,
//! and send the next, until the request budget or the time budget is spent (whichever comes
//! first), so every run is bounded in count and time. Latency statistics come from the
//! sorted samples (nearest rank), no histogram library needed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, RequestBuilder, StatusCode};

/// Builds one request; called for every request, so it may vary them.
pub type MakeRequest = Arc<dyn Fn(&Client) -> RequestBuilder + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub requests: usize,
    pub time: Duration,
}

impl Budget {
    /// The warm-up before a measured run: a few rounds of every client, at most 5 s.
    pub fn warm_up(clients: usize) -> Self {
        Self {
            requests: (clients * 2).max(10),
            time: Duration::from_secs(5),
        }
    }
}

struct Sample {
    latency: Duration,
    ok: bool,
    bytes: usize,
}

#[derive(Debug, Clone)]
pub struct Stats {
    pub clients: usize,
    pub requests: usize,
    pub errors: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub per_second: f64,
    /// Body size of the last successful response.
    pub bytes: usize,
    pub first_error: Option<String>,
}

/// Runs `make` with `clients` concurrent clients within `budget`; a response counts as an
/// error unless its status is `expect`.
pub async fn run(
    client: &Client,
    make: MakeRequest,
    expect: StatusCode,
    clients: usize,
    budget: Budget,
) -> Stats {
    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + budget.time;
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, make, issued, first_error) = (
                client.clone(),
                make.clone(),
                issued.clone(),
                first_error.clone(),
            );
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while issued.fetch_add(1, Ordering::Relaxed) < budget.requests
                    && Instant::now() < deadline
                {
                    let s = one(&client, &make, expect).await;
                    if let Err(msg) = &s {
                        first_error.lock().expect("lock").get_or_insert(msg.clone());
                    }
                    samples.push(s.unwrap_or(Sample {
                        latency: Duration::ZERO,
                        ok: false,
                        bytes: 0,
                    }));
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap_or_default());
    }
    let wall = started.elapsed();
    let first_error = first_error.lock().expect("lock").take();
    summarize(clients, &samples, wall, first_error)
}

/// One request, timed until its body is read. Err: why it failed.
async fn one(client: &Client, make: &MakeRequest, expect: StatusCode) -> Result<Sample, String> {
    let t = Instant::now();
    let r = make(client).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    let latency = t.elapsed();
    if status != expect {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ));
    }
    Ok(Sample {
        latency,
        ok: true,
        bytes: body.len(),
    })
}

fn summarize(
    clients: usize,
    samples: &[Sample],
    wall: Duration,
    first_error: Option<String>,
) -> Stats {
    let mut lat: Vec<Duration> = samples.iter().filter(|s| s.ok).map(|s| s.latency).collect();
    lat.sort_unstable();
    Stats {
        clients,
        requests: samples.len(),
        errors: samples.iter().filter(|s| !s.ok).count(),
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
        max: lat.last().copied().unwrap_or_default(),
        per_second: samples.len() as f64 / wall.as_secs_f64().max(1e-9),
        bytes: samples.iter().rev().find(|s| s.ok).map_or(0, |s| s.bytes),
        first_error,
    }
}

/// Nearest-rank percentile of sorted samples (zero when there are none).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// A warm-up (`Budget::warm_up`), then the measured run within `--requests` and `--seconds`.
pub async fn warm_then_measure(
    client: &Client,
    make: MakeRequest,
    expect: StatusCode,
    clients: usize,
    args: &crate::Args,
) -> Stats {
    run(
        client,
        make.clone(),
        expect,
        clients,
        Budget::warm_up(clients),
    )
    .await;
    let budget = Budget {
        requests: args.requests,
        time: args.max_time(),
    };
    run(client, make, expect, clients, budget).await
}

/// One progress line on stderr (and the first error, if any).
pub fn progress(label: &str, s: &Stats) {
    eprintln!(
        "  {label:<16} c={:<3} n={:<6} err={} p50={} ms p99={} ms max={} ms {:.1} req/s",
        s.clients,
        s.requests,
        s.errors,
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        s.per_second
    );
    if let Some(e) = &s.first_error {
        eprintln!("    first error: {e}");
    }
}

/// The columns of `row`.
pub const COLUMNS: &[&str] = &[
    "clients", "requests", "errors", "p50 ms", "p99 ms", "max ms", "req/s",
];

/// A table row for `COLUMNS`.
pub fn row(s: &Stats) -> Vec<String> {
    vec![
        s.clients.to_string(),
        s.requests.to_string(),
        s.errors.to_string(),
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        format!("{:.1}", s.per_second),
    ]
}

/// The budget of `warm_then_measure`, as a fact of the report.
pub fn budget_fact(args: &crate::Args) -> String {
    format!(
        "per client count: warm-up, then at most {} requests or {} s",
        args.requests, args.seconds
    )
}

/// A client without a session (the request carries its own credentials), keeping a
/// connection per concurrent client.
pub fn plain_client(args: &crate::Args) -> reqwest::Result<Client> {
    let max_clients = args.clients.iter().copied().max().unwrap_or(1);
    Client::builder()
        .pool_max_idle_per_host(max_clients)
        .build()
}
