//! The real application, built with `Application::build` on 127.0.0.1:0 and served from a
//! runtime of its own (two worker threads, like `#[tokio::main]` on this 2-core machine),
//! so client and server share the machine but not a scheduler. Plus signing in over HTTP.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{Context, anyhow, bail};
use gatehouse::config::Settings;
use gatehouse::startup::Application;
use gatehouse::users::bootstrap::BootstrapAdmin;
use reqwest::header::{COOKIE, HeaderMap, HeaderValue};
use reqwest::redirect::Policy;
use tokio::sync::oneshot;

pub struct Server {
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(settings: Settings) -> anyhow::Result<Self> {
        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<SocketAddr>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("gatehouse-server".into())
            .spawn(move || serve(settings, ready_tx, stop_rx))?;
        let addr = ready_rx
            .recv()
            .map_err(|_| anyhow!("the server thread ended before it was ready"))??;
        if !addr.ip().is_loopback() {
            bail!("refusing to load {addr}: benchmarks only send traffic to loopback");
        }
        Ok(Self {
            base: format!("http://{addr}"),
            shutdown: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops serving (in-flight requests finish) and waits for the runtime to end.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

fn serve(
    settings: Settings,
    ready: mpsc::Sender<anyhow::Result<SocketAddr>>,
    stop: oneshot::Receiver<()>,
) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("gatehouse-server-worker")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    rt.block_on(async move {
        // Users exist, so the bootstrap creates nothing.
        let none = BootstrapAdmin {
            username: "admin".into(),
            email: "admin@example.com".into(),
            password: None,
        };
        let app = match Application::build(settings, &none).await {
            Ok(app) => app,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(app.local_addr()));
        if let Err(e) = app
            .run(async {
                let _ = stop.await;
            })
            .await
        {
            eprintln!("server stopped with an error: {e:#}");
        }
    });
}

/// A signed-in session: the `Cookie` header that carries it.
pub struct SignedIn {
    pub cookie: String,
}

/// Signs in as a browser does: GET the form, POST it back with its `_csrf` token.
pub async fn sign_in(server: &Server, username: &str, password: &str) -> anyhow::Result<SignedIn> {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(Policy::none())
        .build()?;
    let page = client
        .get(server.url("/admin/user/login"))
        .send()
        .await?
        .text()
        .await?;
    let token = hidden_input(&page, "_csrf").context("the login page has no _csrf input")?;
    let r = client
        .post(server.url("/admin/user/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await?;
    if r.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("sign-in as {username} answered {}", r.status());
    }
    use reqwest::cookie::CookieStore;
    let cookies = jar
        .cookies(&server.base.parse()?)
        .context("no session cookie after sign-in")?;
    Ok(SignedIn {
        cookie: cookies.to_str()?.to_owned(),
    })
}

/// A client for load: no cookie jar (no shared lock), the session cookie on every request,
/// redirects not followed (a redirect to the login page counts as an error).
pub fn load_client(session: &SignedIn, max_clients: usize) -> anyhow::Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_str(&session.cookie)?);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .redirect(Policy::none())
        .pool_max_idle_per_host(max_clients)
        .build()?)
}

/// The value of the first `<input name=...>` in a page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!(r#"input[name="{name}"]"#)).ok()?;
    doc.select(&sel)
        .next()?
        .value()
        .attr("value")
        .map(str::to_owned)
}

/// The text of the first element matching `selector`, whitespace collapsed.
pub fn text_of(html: &str, selector: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).ok()?;
    let el = doc.select(&sel).next()?;
    Some(
        el.text()
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}
