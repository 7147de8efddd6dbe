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

    /// Signs in as the bootstrap administrator and waits for the users grid it lands on.
    pub async fn login_as_admin(&self, app: &TestApp) {
        self.login(app, "admin", ADMIN_PASSWORD).await;
        wait_for_path(self, "/admin/user").await;
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

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub(crate) async fn wait_for_path(b: &Browser, path: &str) {
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
    b.login_as_admin(&app).await;
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

impl Browser {
    pub async fn click_xpath(&self, xpath: &str) {
        let el = self
            .client
            .find(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("{xpath}: {e}"));
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {xpath}: {e}"));
    }

    /// Texts of the elements matching `css`; empty while the page is being replaced
    /// (elements found on the old page go stale).
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(found) = self.client.find_all(Locator::Css(css)).await else {
            return out;
        };
        for e in found {
            match e.text().await {
                Ok(t) => out.push(t.trim().to_owned()),
                Err(_) => return Vec::new(),
            }
        }
        out
    }

    /// Waits until `css` matches elements whose texts satisfy `ok`.
    pub async fn wait_texts(&self, css: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let t = self.texts(css).await;
            if ok(&t) {
                return t;
            }
            assert!(Instant::now() < deadline, "{css}: {t:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn usernames(&self) -> Vec<String> {
        self.texts("table.datagrid tbody td:nth-child(2)").await
    }

    /// Clicks the OK button of the open confirmation dialog after checking its text.
    pub async fn confirm_dialog(&self, title: &str, text: &str, ok: &str) {
        let shown = self.wait_texts("#gh-dialog-title", |t| t == [title]).await;
        assert_eq!(shown, vec![title]);
        assert_eq!(self.texts("#gh-dialog-text").await, vec![text]);
        let button = self
            .client
            .find(Locator::Id("gh-dialog-ok"))
            .await
            .expect("dialog ok");
        assert_eq!(button.text().await.unwrap(), ok);
        button.click().await.expect("click ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_filters_sorts_views_and_mass_actions() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    for i in 0..12 {
        app.create_plain_user(&format!("sales{i:02}"), "Passw0rd-x");
    }
    app.create_plain_user("zed", "Passw0rd-x");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login_as_admin(&app).await;

    // Filter by username.
    b.click_xpath("//details[contains(@class,'filters')]/summary")
        .await;
    b.fill_by_label("Username", "sales").await;
    b.button("Filter").await.click().await.unwrap();
    b.wait_texts(".grid-count", |t| {
        t.first().is_some_and(|s| s.starts_with("12 users"))
    })
    .await;

    // Sort by username, descending (click the header twice).
    b.click_xpath("//th/a[normalize-space()='Username']").await;
    b.wait_texts("table.datagrid tbody td:nth-child(2)", |t| {
        t.first().map(String::as_str) == Some("sales11")
    })
    .await;
    let url = b.client.current_url().await.unwrap();
    assert!(
        url.query().unwrap_or("").contains("username=sales"),
        "the filter stays in the URL: {url}"
    );

    // Save the view and find it as the current tab.
    b.click_xpath("//details[contains(@class,'views-manage')]/summary")
        .await;
    b.fill_by_label("Save current filters and sort as", "Sales team")
        .await;
    b.button("Save view").await.click().await.unwrap();
    b.wait_texts(".views a[aria-current=page]", |t| t == ["Sales team"])
        .await;
    b.screenshot("grid-saved-view").await;

    // Select all matching (across pages: 12 users, page size 10) and disable them.
    b.client
        .goto(&app.url("/admin/user?username=sales&size=10"))
        .await
        .unwrap();
    assert_eq!(b.usernames().await.len(), 10);
    b.click_xpath("//label[starts-with(normalize-space(),'Select all 12 matching users')]")
        .await;
    b.click_xpath("//details[contains(@class,'mass-actions')]/summary")
        .await;
    b.click_xpath(
        "//details[contains(@class,'mass-actions')]//button[normalize-space()='Disable']",
    )
    .await;
    b.confirm_dialog(
        "Disable Users",
        "Selected users will be disabled.",
        "Disable",
    )
    .await;
    b.wait_texts(".flash-success", |t| t == ["12 user(s) were disabled"])
        .await;
    b.screenshot("grid-mass-disabled").await;

    // The Disabled Users view, one click away.
    b.click_xpath("//nav[contains(@class,'views')]/a[normalize-space()='Disabled Users']")
        .await;
    b.wait_texts(".grid-count", |t| {
        t.first().is_some_and(|s| s.starts_with("12 users"))
    })
    .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_user_with_a_field_error_then_fix_it() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login_as_admin(&app).await;
    b.click_xpath("//a[normalize-space()='Create User']").await;
    wait_for_path(&b, "/admin/user/create").await;
    b.fill_by_label("Username *", "newbie").await;
    b.fill_by_label("Primary Email *", "not an email").await;
    b.fill_by_label("Password *", "Strong-pass-1").await;
    b.button("Save").await.click().await.unwrap();
    let err = b.wait_texts("#e-email", |t| !t.is_empty()).await;
    assert_eq!(err, vec!["This value is not a valid email address."]);
    b.screenshot("create-user-error").await;
    // The username was kept; fix the email and save (the password is asked again).
    let kept = b
        .client
        .find(Locator::Id("f-username"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("newbie"));
    b.fill_by_label("Primary Email *", "newbie@example.com")
        .await;
    b.fill_by_label("Password *", "Strong-pass-1").await;
    b.button("Save").await.click().await.unwrap();
    b.wait_texts(".flash-success", |t| t == ["User saved."])
        .await;
    assert_eq!(b.texts("h1").await, vec!["newbie"]);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_buttons_row_menu_and_deletion_confirmation() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.create_plain_user("carol", "Carol-pass-1");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login_as_admin(&app).await;

    // Page buttons: Disable User, then Enable User.
    b.client
        .goto(&app.url(&format!("/admin/user/view/{bob}")))
        .await
        .unwrap();
    b.button("⊘ Disable User").await.click().await.unwrap();
    b.wait_texts(".flash-success", |t| t == ["User bob disabled."])
        .await;
    b.button("✓ Enable User").await.click().await.unwrap();
    b.wait_texts(".flash-success", |t| t == ["User bob enabled."])
        .await;

    // Row menu: Disable carol from the grid; the grid comes back with the message.
    b.client.goto(&app.url("/admin/user")).await.unwrap();
    b.click_xpath("//summary[@aria-label='Actions for carol']")
        .await;
    b.screenshot("grid-row-menu").await;
    b.click_xpath(
        "//summary[@aria-label='Actions for carol']/..//button[normalize-space()='Disable']",
    )
    .await;
    b.wait_texts(".flash-success", |t| t == ["User carol disabled."])
        .await;

    // Delete bob from the row menu through the Deletion Confirmation dialog.
    b.click_xpath("//summary[@aria-label='Actions for bob']")
        .await;
    b.click_xpath("//summary[@aria-label='Actions for bob']/..//a[normalize-space()='Delete']")
        .await;
    b.screenshot("deletion-confirmation").await;
    b.confirm_dialog(
        "Deletion Confirmation",
        "Are you sure you want to delete user bob?",
        "Yes, Delete",
    )
    .await;
    b.wait_texts(".flash-success", |t| t == ["User bob deleted."])
        .await;
    assert_eq!(b.usernames().await, vec!["admin", "carol"]);

    // From the user page too.
    b.click_xpath("//a[normalize-space()='carol']").await;
    b.click_xpath("//div[contains(@class,'page-actions')]/a[normalize-space()='Delete']")
        .await;
    b.confirm_dialog(
        "Deletion Confirmation",
        "Are you sure you want to delete user carol?",
        "Yes, Delete",
    )
    .await;
    b.wait_texts(".flash-success", |t| t == ["User carol deleted."])
        .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_switcher_and_my_user() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    app.login_as_admin().await;
    app.post("/admin/organization", &[("name", "Acme")]).await;
    let out = app.create_user(&[
        "--username",
        "bob",
        "--email",
        "bob@example.com",
        "--password",
        "Bob-pass-123",
        "--organization",
        "Acme",
    ]);
    assert!(out.status.success());
    // bob also joins Default through the edit form.
    let (_, form) = app.get_html("/admin/user/update/2").await;
    app.post_form(
        "/admin/user/update/2",
        &form,
        &[
            ("username", "bob"),
            ("email", "bob@example.com"),
            ("enabled", "1"),
            ("roles", "2"),
            ("organizations", "1"),
            ("organizations", "2"),
        ],
    )
    .await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login(&app, "bob", "Bob-pass-123").await;
    wait_for_path(&b, "/admin/user/profile/view").await;
    // My User: own General Information, no user management in the menu.
    assert!(
        b.texts("dl.info dd")
            .await
            .contains(&"bob@example.com".to_string())
    );
    assert!(
        b.client
            .find(Locator::XPath("//a[normalize-space()='Users']"))
            .await
            .is_err()
    );
    let selected = b
        .client
        .find(Locator::Css("#org-switch"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(selected.as_deref(), Some("2"), "Acme (first by name)");
    b.screenshot("my-user").await;
    // Switch to Default in the header.
    let select = b.client.find(Locator::Id("org-switch")).await.unwrap();
    select.select_by_value("1").await.unwrap();
    b.button("Switch").await.click().await.unwrap();
    b.wait_texts(".flash-success", |t| {
        t == ["You are now working in Default."]
    })
    .await;
    wait_for_path(&b, "/admin/user/profile/view").await;
    let selected = b
        .client
        .find(Locator::Css("#org-switch"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(selected.as_deref(), Some("1"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_dialog_and_mass_reset_dialog() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.create_plain_user("carol", "Carol-pass-1");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login_as_admin(&app).await;
    b.client
        .goto(&app.url(&format!("/admin/user/view/{bob}")))
        .await
        .unwrap();

    // More Actions > Change Password opens the dialog.
    b.click_xpath("//details[contains(@class,'more-actions')]/summary")
        .await;
    b.click_xpath("//a[contains(normalize-space(),'Change Password')]")
        .await;
    let input = b
        .client
        .find(Locator::Id("dlg-new-password"))
        .await
        .unwrap();
    assert_eq!(
        input.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    // Show / Hide.
    let toggle = b
        .client
        .find(Locator::Css("[data-toggle-password='dlg-new-password']"))
        .await
        .unwrap();
    assert_eq!(toggle.text().await.unwrap(), "Show");
    toggle.click().await.unwrap();
    assert_eq!(input.attr("type").await.unwrap().as_deref(), Some("text"));
    assert_eq!(toggle.text().await.unwrap(), "Hide");
    toggle.click().await.unwrap();
    assert_eq!(
        input.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    // Suggest Password fills a policy-conforming password and shows it.
    b.click_xpath(
        "//dialog[@id='change-password-dialog']//a[normalize-space()='Suggest Password']",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let suggested = loop {
        let v = input.prop("value").await.unwrap().unwrap_or_default();
        if !v.is_empty() {
            break v;
        }
        assert!(Instant::now() < deadline, "no suggestion");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        suggested.len() >= 16
            && suggested.chars().any(|c| c.is_ascii_uppercase())
            && suggested.chars().any(|c| c.is_ascii_digit())
    );
    assert_eq!(input.attr("type").await.unwrap().as_deref(), Some("text"));
    b.screenshot("change-password-dialog").await;
    b.click_xpath("//dialog[@id='change-password-dialog']//button[normalize-space()='Save']")
        .await;
    b.wait_texts(".flash-success", |t| {
        t == ["The password of bob was changed."]
    })
    .await;
    let (c, _) = crate::common::new_client();
    let r = crate::common::login_with(&c, &app.base, "bob", &suggested).await;
    assert_eq!(crate::common::location(&r), "/admin/user/profile/view");

    // Mass Reset Password through its dialog.
    b.client.goto(&app.url("/admin/user")).await.unwrap();
    b.click_xpath("//input[@aria-label='Select bob']").await;
    b.click_xpath("//input[@aria-label='Select carol']").await;
    b.click_xpath("//details[contains(@class,'mass-actions')]/summary")
        .await;
    b.click_xpath(
        "//details[contains(@class,'mass-actions')]//button[normalize-space()='Reset Password']",
    )
    .await;
    b.screenshot("mass-reset-dialog").await;
    b.confirm_dialog(
        "Reset Password",
        "The selected users will receive reset password by email and will be disabled from login.",
        "Reset",
    )
    .await;
    b.wait_texts(".flash-success", |t| {
        t == ["Password reset completed successfully. 2 emails sent."]
    })
    .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_follow_the_emailed_link() {
    let mail = tempfile::tempdir().unwrap();
    let dsn = format!("file://{}", mail.path().display());
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| s.mailer.dsn = dsn).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login_as_admin(&app).await;
    b.button("Export").await.click().await.unwrap();
    b.wait_texts(".flash-success", |t| {
        t == ["Export started successfully. You will receive email notification upon completion."]
    })
    .await;
    let mails = crate::mailbox::wait_for_files(mail.path(), 1).await;
    assert_eq!(mails[0].subject, "Export result for job 1");
    let public = app.state.settings.public_link("");
    let link = mails[0]
        .link(&format!("{public}/admin/user/export/"))
        .expect("link in the email");
    let path = link.strip_prefix(&public).unwrap().to_owned();
    // Follow it in the signed-in browser (a download, so fetched rather than navigated).
    let script = "const [p, done] = arguments; fetch(p, {credentials: 'same-origin'}).then(async r => done([r.status, r.headers.get('content-disposition'), await r.text()]));";
    let out = b
        .client
        .execute_async(script, vec![serde_json::json!(path)])
        .await
        .unwrap();
    assert_eq!(out[0], 200);
    assert_eq!(out[1], "attachment; filename=\"users-export-1.csv\"");
    let csv = out[2].as_str().unwrap();
    assert!(
        csv.starts_with("id,username,email") && csv.contains("bob@example.com"),
        "{csv}"
    );
    // The grid lists it with a Download link.
    b.client.goto(&app.url("/admin/user")).await.unwrap();
    b.click_xpath("//details[contains(@class,'recent-exports')]/summary")
        .await;
    assert_eq!(
        b.texts(".recent-exports td.export-state").await,
        vec!["Done, 2 users"]
    );
    b.close().await;
}

/// At 1366 px, each date column stays on one line (the full time is in its tooltip), and a
/// sorted column's header is named by its label alone: the arrow is hidden from assistive
/// technology and the order is said by `aria-sort` (WCAG 2.1 SC 1.3.1, 4.1.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_fit_one_line_and_sorted_headers_keep_their_names() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.client.set_window_size(1366, 768).await.unwrap();
    // Bob has signed in once, so every date column holds a time.
    b.login(&app, "bob", "Bob-pass-123").await;
    b.client
        .goto(&format!("{}/admin/user/login", app.base))
        .await
        .unwrap();
    b.client.delete_all_cookies().await.unwrap();
    b.login_as_admin(&app).await;
    b.client
        .goto(&format!("{}/admin/user?sort=username&dir=asc", app.base))
        .await
        .unwrap();
    let lines = b
        .client
        .execute(
            "return [...document.querySelectorAll('table.datagrid td.date')].map(td => {
                 const r = document.createRange(); r.selectNodeContents(td);
                 const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                 return [td.textContent.trim(), tops.size, td.querySelector('time')?.title ?? ''];
             })",
            vec![],
        )
        .await
        .unwrap();
    let cells = lines.as_array().unwrap();
    assert!(cells.len() >= 6, "{lines}");
    for c in cells {
        assert_eq!(c[1], 1, "one line: {c}");
        assert!(
            c[2].as_str().unwrap().ends_with("UTC"),
            "the full time in the tooltip: {c}"
        );
    }
    let header = b
        .client
        .execute(
            "const th = document.querySelector('th[aria-sort]');
             const name = th.cloneNode(true);
             name.querySelectorAll('[aria-hidden=true]').forEach(e => e.remove());
             return [th.getAttribute('aria-sort'), name.textContent.trim(),
                     th.querySelector('a').textContent.trim()];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        header,
        serde_json::json!(["ascending", "Username", "Username"])
    );
    b.screenshot("grid-1366").await;
    b.close().await;
}
