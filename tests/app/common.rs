//! The test harness: a real Gatehouse on a random port against a fresh database (a temp
//! SQLite file, or a scratch PostgreSQL database created here and dropped afterwards), and
//! a cookie-keeping HTTP client.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use gatehouse::config::Settings;
use gatehouse::startup::Application;
use gatehouse::state::AppState;
use gatehouse::users::bootstrap::BootstrapAdmin;
use rand::Rng;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use tokio::sync::oneshot;

pub const ADMIN_PASSWORD: &str = "Admin-Pass-123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend from an `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}

fn pg_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn random_suffix() -> String {
    let n: u64 = rand::thread_rng().r#gen();
    format!("{n:016x}")
}

/// A database that exists for one test and is removed with it.
pub struct ScratchDb {
    pub url: String,

    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl ScratchDb {
    /// None when PostgreSQL is unreachable outside CI (the test is skipped, loudly); in CI
    /// (CI=true) an unreachable PostgreSQL fails the test instead.
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
                Some(Self {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let admin = pg_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                        eprintln!("SKIPPED: PostgreSQL unreachable at {admin}: {e}");
                        return None;
                    }
                    Err(e) => panic!("PostgreSQL unreachable at {admin} (CI=true): {e}"),
                };
                let name = format!("gatehouse_test_{}", random_suffix());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create scratch database");
                let mut url = url::Url::parse(&admin).expect("TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                Some(Self {
                    url: url.to_string(),
                    _dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; the drop needs a runtime of its own.
        let admin = pg_admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub state: AppState,
    pub db: ScratchDb,
    shutdown: Option<oneshot::Sender<()>>,
    /// Files the app writes (exports, mail) live here and go with the test.
    _scratch: tempfile::TempDir,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Option<Self> {
        let db = ScratchDb::create(backend).await?;
        let mut settings = Settings::default();
        settings.database.url = db.url.clone();
        settings.database.max_connections = 5;
        settings.server.listen = "127.0.0.1:0".parse().expect("addr");
        let scratch = tempfile::tempdir().expect("temp dir");
        settings.export.dir = scratch.path().join("exports");
        // Tests that read email choose a transport; the rest must not write into the repo.
        settings.mailer.dsn = "null://".into();
        tweak(&mut settings);
        Some(Self::start(db, settings, scratch).await)
    }

    /// A second Gatehouse process on this app's database (its own server, workers and
    /// clock), as several instances behind a load balancer would run.
    /// An app whose mail goes to .eml files in the returned directory (the file transport),
    /// for tests that read the emails it sends.
    pub async fn spawn_with_mail_dir(backend: Backend) -> Option<(Self, tempfile::TempDir)> {
        let dir = tempfile::tempdir().expect("mail dir");
        let dsn = format!("file://{}", dir.path().display());
        let app = Self::spawn_with(backend, |s| s.mailer.dsn = dsn).await?;
        Some((app, dir))
    }

    pub async fn spawn_sibling(&self, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = (*self.state.settings).clone();
        settings.server.listen = "127.0.0.1:0".parse().expect("addr");
        tweak(&mut settings);
        let db = ScratchDb {
            url: self.db.url.clone(),
            _dir: None,
            pg_name: None,
        };
        Self::start(db, settings, tempfile::tempdir().expect("temp dir")).await
    }

    async fn start(db: ScratchDb, settings: Settings, scratch: tempfile::TempDir) -> Self {
        let app = Application::build(
            settings,
            &BootstrapAdmin {
                username: "admin".into(),
                email: "admin@example.com".into(),
                password: Some(ADMIN_PASSWORD.into()),
            },
        )
        .await
        .expect("application builds");
        let addr = app.local_addr();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        let base = format!("http://{addr}");
        let (client, jar) = new_client();
        Self {
            base,
            client,
            jar,
            state,
            db,
            shutdown: Some(tx),
            _scratch: scratch,
            running: Some(running),
        }
    }

    /// Shuts the server down as a signal would and waits until `run` has returned (requests
    /// finished, workers stopped).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(running) = self.running.take() {
            tokio::time::timeout(std::time::Duration::from_secs(30), running)
                .await
                .expect("the application stops within 30 s")
                .expect("run task")
                .expect("run returns Ok");
        }
    }

    /// Ends the server as a killed process ends: no graceful shutdown; its workers stop
    /// wherever they are, their claims left to run out.
    pub async fn kill(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
            let _ = running.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A second browser: its own cookie jar, same server.
    pub fn new_browser(&self) -> (reqwest::Client, Arc<Jar>) {
        new_client()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// Posts a form as a browser would, with the CSRF token taken from `page`'s HTML.
    pub async fn post_form(
        &self,
        path: &str,
        page_with_token: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let token = csrf_from(page_with_token).expect("page has a CSRF token");
        let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .expect("POST")
    }

    /// The CSRF token of this client's session (any signed-in page carries it).
    pub async fn csrf(&self) -> String {
        let (_, html) = self.get_html("/admin/user/profile/view").await;
        csrf_from(&html).expect("signed-in page has a CSRF token")
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .expect("POST")
    }

    /// The flash messages the next page shows (consumes them).
    pub async fn flashes(&self) -> Vec<String> {
        let (_, html) = self.get_html("/admin/user/profile/view").await;
        // Flash messages sit directly in <main>; other notices on the page do not count.
        texts(&html, "main > .flash")
    }

    /// Usernames shown by the grid at `query` (all on one page of 100).
    pub async fn grid_usernames(&self, query: &str) -> Vec<String> {
        let (status, html) = self
            .get_html(&format!("/admin/user?size=100&{query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "grid {query}: {html}");
        texts(&html, "table.datagrid tbody td:nth-child(2)")
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        login_with(&self.client, &self.base, username, password).await
    }

    pub async fn login_as_admin(&self) {
        let r = self.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "admin login redirects");
        assert_eq!(location(&r), "/admin/user");
    }

    pub fn session_cookie(&self) -> Option<String> {
        let url = self.base.parse().expect("base url");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("gatehouse_session=").map(str::to_owned))
    }

    /// Runs `gatehouse user create` against this app's database, as an operator would.
    pub fn create_user(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["user", "create"];
        all.extend_from_slice(args);
        run_cli(&self.db.url, &all, None)
    }

    pub fn create_plain_user(&self, username: &str, password: &str) -> i64 {
        let email = format!("{username}@example.com");
        let out = self.create_user(&[
            "--username",
            username,
            "--email",
            &email,
            "--password",
            password,
        ]);
        assert!(
            out.status.success(),
            "user create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("id printed")
    }

    /// One integer read straight from the database (a count, an id), to check what a
    /// request stored rather than what a page says.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match &self.state.db {
            gatehouse::store::Db::Sqlite(p) => {
                sqlx::query_scalar(sql).fetch_one(p).await.expect(sql)
            }
            gatehouse::store::Db::Postgres(p) => {
                sqlx::query_scalar(sql).fetch_one(p).await.expect(sql)
            }
        }
    }

    /// A column of text read straight from the database, row by row.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match &self.state.db {
            gatehouse::store::Db::Sqlite(p) => {
                sqlx::query_scalar(sql).fetch_all(p).await.expect(sql)
            }
            gatehouse::store::Db::Postgres(p) => {
                sqlx::query_scalar(sql).fetch_all(p).await.expect(sql)
            }
        }
    }

    /// Direct SQL for arranging states that no capability can produce yet.
    pub async fn sql(&self, sql: &str) {
        match &self.state.db {
            gatehouse::store::Db::Sqlite(p) => {
                sqlx::query(sql).execute(p).await.expect("sql");
            }
            gatehouse::store::Db::Postgres(p) => {
                sqlx::query(sql).execute(p).await.expect("sql");
            }
        }
    }

    /// Inserts `n` users straight into the table, for x = 1..=n: `username` and `email`
    /// are SQL expressions of `x` (each key equal to its display value).
    pub async fn insert_users(&self, n: u32, username: &str, email: &str) {
        self.sql(&format!(
            "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {n}) \
             INSERT INTO users (username, username_key, email, email_key, password_hash, \
                 created_at, updated_at) \
             SELECT {username}, {username}, {email}, {email}, 'x', 0, 0 FROM seq"
        ))
        .await;
    }

    /// `n` users keyed like the benchmark's: `u<x>` with the email `user<x, 7 digits>@example.com`,
    /// so every email has the trigrams of "user" and of runs of zeros.
    pub async fn insert_bench_like_users(&self, n: u32) {
        self.insert_users(
            n,
            "'u' || x",
            "'user' || substr('0000000' || x, length('0000000' || x) - 6, 7) || '@example.com'",
        )
        .await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn new_client() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(Policy::none())
        .build()
        .expect("client");
    (client, jar)
}

pub async fn login_with(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Response {
    let page = client
        .get(format!("{base}/admin/user/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let token = csrf_from(&page).expect("login page has a CSRF token");
    client
        .post(format!("{base}/admin/user/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .expect("POST login")
}

/// GET `url` with `client` (its cookies) and the body as text.
pub async fn text_of(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client
        .get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body")
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

pub fn csrf_from(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(r#"input[name="_csrf"]"#).ok()?;
    doc.select(&sel)
        .next()?
        .value()
        .attr("value")
        .map(str::to_owned)
}

/// Texts of the elements matching `selector`, whitespace-collapsed.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).expect("selector");
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gatehouse"))
}

/// A `gatehouse` command with a clean environment (nothing from the developer's shell leaks
/// in), run in an empty directory so no config.yml is picked up unless given.
pub fn cli_command(db_url: &str, cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GATEHOUSE_DATABASE__URL", db_url)
        .env("GATEHOUSE_LOG", "warn")
        .current_dir(cwd);
    cmd
}

pub fn run_cli(db_url: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = cli_command(db_url, dir.path());
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn gatehouse");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("gatehouse output")
}
