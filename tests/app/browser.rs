//! Browser tests in headless Chromium (Debian's chromium + chromium-driver), driven over
//! WebDriver. Screenshots go to target/screenshots/. Outside CI a machine without
//! chromedriver skips them (loudly); with CI=true a missing driver fails.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::common::{ADMIN_PASSWORD, Backend, TestApp};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Option<Self> {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver_path) = driver_path else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "chromedriver missing in CI"
            );
            eprintln!(
                "SKIPPED: chromedriver not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().cloned().expect("object");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("cannot start Chromium: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Some(Self {
            client,
            driver,
            _profile: profile,
        })
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn login(&self, app: &TestApp, username: &str, password: &str) {
        self.client
            .goto(&app.url("/admin/user/login"))
            .await
            .expect("goto login");
        self.fill_by_label("Username", username).await;
        self.fill_by_label("Password", password).await;
        self.button("Log in")
            .await
            .click()
            .await
            .expect("click Log in");
    }

    /// The input a visible `<label>` names, as a person finds it.
    pub async fn fill_by_label(&self, label: &str, value: &str) {
        let xpath = format!("//label[normalize-space()='{label}']");
        let l = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .expect("label");
        let id = l.attr("for").await.expect("for").expect("label has for");
        let input = self.client.find(Locator::Id(&id)).await.expect("input");
        input.clear().await.expect("clear");
        input.send_keys(value).await.expect("type");
    }

    pub async fn button(&self, text: &str) -> fantoccini::elements::Element {
        let xpath = format!(
            "//button[normalize-space()='{text}'] | //input[@type='submit' and @value='{text}']"
        );
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .expect("button")
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_for_path(b: &Browser, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = b.client.current_url().await.expect("url");
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "expected {path}, at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_and_see_the_users_grid() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login(&app, "admin", ADMIN_PASSWORD).await;
    wait_for_path(&b, "/admin/user").await;
    let heading = b
        .client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Users");
    b.screenshot("users-grid").await;

    // One click on a row (not on the link) opens the user's page.
    let cell = b
        .client
        .find(Locator::XPath(
            "//table[contains(@class,'datagrid')]//td[normalize-space()='bob@example.com']",
        ))
        .await
        .unwrap();
    cell.click().await.unwrap();
    wait_for_path(&b, &format!("/admin/user/view/{bob}")).await;
    let h2 = b
        .client
        .find(Locator::Css("h2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h2, "General Information");
    b.screenshot("user-page").await;
    b.close().await;
}
