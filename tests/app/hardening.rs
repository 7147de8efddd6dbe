//! Throttling, headers and sessions, ids, export files: what an attacker or a crash could
//! otherwise use.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp, location, login_with, new_client, texts};

both_backends!(
    sign_in_is_throttled_per_address_and_per_account,
    forwarded_for_counts_only_behind_a_trusted_proxy,
    wsse_and_token_failures_are_throttled,
    pages_and_api_answers_are_never_cached,
    https_sends_hsts_and_a_host_only_cookie,
    a_session_ends_after_its_lifetime,
    ids_are_never_handed_out_twice,
    orphaned_export_files_go_and_files_are_private,
    a_live_worker_keeps_its_claim,
    a_killed_workers_emails_are_taken_over,
);

fn throttled(r: &reqwest::Response) -> u64 {
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    wait
}

/// OWASP ASVS 4 V2.2.1: anti-automation against credential stuffing and brute force, per
/// address (a spray over many accounts) and per account (a guess from many addresses).
async fn sign_in_is_throttled_per_address_and_per_account(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.security.throttle.failures_per_address = 12;
        s.security.throttle.failures_per_account = 5;
        s.security.max_failed_login_attempts = 0;
    })
    .await
    else {
        return;
    };
    // Start just after a window begins, so the test never straddles two.
    let now = app.state.clock.now();
    app.state.clock.advance(900 - now % 900 + 1);
    app.create_plain_user("bob", "Bob-pass-123");
    let (c, _) = new_client();
    // Per account: five failures, then even the right password waits.
    for _ in 0..5 {
        let r = login_with(&c, &app.base, "bob", "Wrong-pass-1").await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = login_with(&c, &app.base, "bob", "Bob-pass-123").await;
    throttled(&r);
    assert!(r.text().await.unwrap().contains("Too many failed attempts"));
    // A name nobody has is throttled alike: the limit tells nothing.
    for _ in 0..5 {
        login_with(&c, &app.base, "ghost", "Wrong-pass-1").await;
    }
    throttled(&login_with(&c, &app.base, "ghost", "Wrong-pass-1").await);
    // Per address: a spray over other accounts stops at twelve failures in all.
    let mut refused = 0;
    for i in 0..10 {
        let r = login_with(&c, &app.base, &format!("spray{i}"), "Wrong-pass-1").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert_eq!(refused, 8, "10 + 2 failures allowed, then refused");
    // The forgotten password form has its own limits, and the next window starts afresh.
    app.state.clock.advance(900);
    let r = login_with(&c, &app.base, "bob", "Bob-pass-123").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
}

async fn forwarded_for_counts_only_behind_a_trusted_proxy(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.security.throttle.failures_per_address = 3;
        s.security.throttle.failures_per_account = 1000;
        s.server.trusted_proxies = vec!["127.0.0.1".to_string().try_into().unwrap()];
    })
    .await
    else {
        return;
    };
    let now = app.state.clock.now();
    app.state.clock.advance(900 - now % 900 + 1);
    let attempt = |xff: &'static str, name: String| {
        let app = &app;
        async move {
            let (c, _) = new_client();
            let page = c
                .get(app.url("/admin/user/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let token = crate::common::csrf_from(&page).unwrap();
            c.post(app.url("/admin/user/login"))
                .header("x-forwarded-for", xff)
                .form(&[
                    ("_csrf", token.as_str()),
                    ("username", name.as_str()),
                    ("password", "x"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Behind the trusted proxy (the test's own address), each client counts alone.
    for i in 0..3 {
        assert_eq!(
            attempt("203.0.113.7", format!("a{i}")).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        attempt("203.0.113.7", "a9".into()).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(attempt("203.0.113.8", "b".into()).await, StatusCode::OK);
    // The audit log names the client, not the proxy.
    app.create_plain_user("bob", "Bob-pass-123");
    let (c, _) = new_client();
    let page = c
        .get(app.url("/admin/user/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::common::csrf_from(&page).unwrap();
    c.post(app.url("/admin/user/login"))
        .header("x-forwarded-for", "198.51.100.1")
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "bob"),
            ("password", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.texts("SELECT ip FROM audit_log WHERE action = 'login.failed'")
            .await,
        vec!["198.51.100.1"]
    );

    // Without a trusted proxy, the header is not believed: one address, one limit.
    let Some(plain) = TestApp::spawn_with(backend, |s| {
        s.security.throttle.failures_per_address = 3;
        s.security.throttle.failures_per_account = 1000;
    })
    .await
    else {
        return;
    };
    let now = plain.state.clock.now();
    plain.state.clock.advance(900 - now % 900 + 1);
    let (c, _) = new_client();
    for i in 0..3 {
        let r = login_with(&c, &plain.base, &format!("n{i}"), "x").await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let page = c
        .get(plain.url("/admin/user/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::common::csrf_from(&page).unwrap();
    let r = c
        .post(plain.url("/admin/user/login"))
        .header("x-forwarded-for", "203.0.113.99")
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "n9"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header escapes nothing"
    );
}

async fn wsse_and_token_failures_are_throttled(backend: Backend) {
    let Some((app, _keys)) = crate::oauth::spawn_oauth(backend, true).await else {
        return;
    };
    let now = app.state.clock.now();
    app.state.clock.advance(900 - now % 900 + 1);
    app.login_as_admin().await;
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let (id, secret) = crate::oauth::add_app(&app, bob, "Tool", &[]).await;
    // Twenty wrong secrets for one client (the per-account limit), then a wrong one waits;
    // RFC 6585 section 4. The right secret (381 random bits: never a guess) still works.
    for _ in 0..20 {
        let r = crate::oauth::token_with(&app, &id, "ghcs_wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = crate::oauth::token_with(&app, &id, "ghcs_wrong").await;
    throttled(&r);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    crate::oauth::access_token(&app, &id, &secret).await;
    // WSSE counts on its own: fifty wrong digests from one address (each for another
    // name), then every API request from it waits.
    let client = reqwest::Client::new();
    let created = crate::api::rfc3339(app.state.clock.now());
    let mut last = StatusCode::OK;
    for i in 0..51 {
        let r = client
            .get(app.url("/api/users"))
            .header(
                "X-WSSE",
                crate::api::wsse(&format!("nobody{i}"), "0000", &created),
            )
            .send()
            .await
            .unwrap();
        last = r.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(i, 50, "after fifty failures");
            throttled(&r);
            let doc: serde_json::Value = r.json().await.unwrap();
            assert_eq!(doc["errors"][0]["status"], "429");
            break;
        }
        assert_eq!(last, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// OWASP ASVS 4 V8.2.1: responses with sensitive data are not cached.
async fn pages_and_api_answers_are_never_cached(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    for path in [
        "/admin/user",
        "/admin/user/view/1",
        "/admin/user/profile/view",
        "/admin/organization",
        "/admin/user/login",
        "/api/users",
        "/nothing-here",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    assert_eq!(
        app.get("/static/app.css").await.headers()["cache-control"],
        "public, max-age=3600"
    );
    assert!(
        app.get("/admin/user")
            .await
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

/// RFC 6797 (HSTS) and the `__Host-` prefix (RFC 6265bis section 4.1.3.2) when the public
/// URL is https; OWASP ASVS 4 V3.4.1, V3.4.4, V14.4.5.
async fn https_sends_hsts_and_a_host_only_cookie(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.server.public_url = "https://gatehouse.example/".parse().unwrap();
    })
    .await
    else {
        return;
    };
    let r = app.get("/admin/user/login").await;
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-gatehouse_session="), "{cookie}");
    for part in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
}

/// OWASP ASVS 4 V3.3.2: a session has an absolute lifetime, however active it is.
async fn a_session_ends_after_its_lifetime(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.security.session_lifetime = 3 * 86_400;
    })
    .await
    else {
        return;
    };
    app.login_as_admin().await;
    app.state.clock.advance(3 * 86_400 - 60);
    assert_eq!(app.get("/admin/user").await.status(), StatusCode::OK);
    app.state.clock.advance(61);
    let r = app.get("/admin/user").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/admin/user/login"));
}

/// No id is handed out twice, on either backend: a new user never inherits a deleted
/// one's page, history, links or exports.
async fn ids_are_never_handed_out_twice(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.post(&format!("/admin/user/delete/{bob}"), &[]).await;
    let carol = app.create_plain_user("carol", "Carol-pass-123");
    assert!(carol > bob, "carol {carol} after bob {bob}");
    let (_, page) = app.get_html(&format!("/admin/user/view/{carol}")).await;
    assert_eq!(
        texts(&page, "table.compact tbody td:nth-child(2)"),
        vec!["User created"],
        "only carol's own history"
    );
    assert_eq!(
        app.get(&format!("/admin/user/view/{bob}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // The deleted user's entry has a label like the others.
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'user.deleted' AND target_id = {bob}"
        ))
        .await,
        1
    );
    app.post("/admin/organization", &[("name", "Acme")]).await;
    app.post("/admin/organization/2/delete", &[]).await;
    app.post("/admin/organization", &[("name", "Zeta")]).await;
    assert_eq!(
        app.scalar("SELECT id FROM organizations WHERE name = 'Zeta'")
            .await,
        3
    );
    app.post("/admin/user/views", &[("name", "A"), ("query", "view=all")])
        .await;
    let first = app.scalar("SELECT MAX(id) FROM grid_views").await;
    app.post(&format!("/admin/user/views/{first}/delete"), &[])
        .await;
    app.post("/admin/user/views", &[("name", "B"), ("query", "view=all")])
        .await;
    assert!(app.scalar("SELECT MAX(id) FROM grid_views").await > first);
    // Every table whose ids are shown or referenced draws them from a sequence that never
    // goes back (SQLite AUTOINCREMENT, PostgreSQL identity); roles have fixed ids.
    let reusable = match backend {
        Backend::Sqlite => {
            app.texts(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND sql LIKE '%INTEGER PRIMARY KEY%' AND sql NOT LIKE '%AUTOINCREMENT%' \
                 AND name NOT LIKE 'user_keys_search_%' ORDER BY name",
            )
            .await
        }
        Backend::Postgres => {
            app.texts(
                "SELECT c.table_name::text FROM information_schema.columns c \
                 WHERE c.table_schema = 'public' AND c.column_name = 'id' \
                 AND c.is_identity = 'NO' ORDER BY 1",
            )
            .await
        }
    };
    assert_eq!(reusable, vec!["roles"]);
}

async fn orphaned_export_files_go_and_files_are_private(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let dir = app.state.settings.export.dir.clone();
    std::fs::create_dir_all(&dir).unwrap();
    // A second instance starting finds what a crashed one left: a partial file of a job
    // that is not running, one of an attempt long dead, and a finished file no job names.
    let now = app.state.clock.now();
    app.sql(&format!(
        "INSERT INTO export_jobs (requested_by, fields, status, attempts, claimed_until, created_at) \
         VALUES (1, 'id', 'running', 2, {}, {now})",
        now + 600
    ))
    .await;
    for f in [
        "export-77-a1-dead.csv.part",
        "export-1-a1-old.csv.part",
        "export-1-a2-live.csv.part",
        "export-77-a1-done.csv",
        "notes.txt",
    ] {
        std::fs::write(dir.join(f), "id\n").unwrap();
    }
    let sibling = app.spawn_sibling(|_| {}).await;
    crate::mailbox::eventually("the orphans to go", 10, || async {
        let left = std::fs::read_dir(&dir).unwrap().count();
        (left == 2).then_some(())
    })
    .await;
    assert!(
        dir.join("export-1-a2-live.csv.part").exists(),
        "a live attempt's file stays"
    );
    assert!(dir.join("notes.txt").exists(), "not an export file");
    sibling.stop().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        app.sql("UPDATE export_jobs SET status = 'failed', claimed_until = NULL")
            .await;
        app.login_as_admin().await;
        app.post("/admin/user/export", &[]).await;
        let file = crate::mailbox::eventually("the export file", 20, || async {
            std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(Result::ok)
                .find(|e| e.file_name().to_string_lossy().ends_with(".csv"))
                .map(|e| e.path())
        })
        .await;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        assert_eq!(mode(&dir), 0o700);
    }
}

/// One email queued as the rules queue them, due now; its id.
async fn queue_one(app: &TestApp, to: &str) -> i64 {
    let email = gatehouse::mail::Email {
        to: to.into(),
        subject: "Lease".into(),
        text: "Body".into(),
        html: None,
        template: "test",
    };
    let mut tx = app.state.db.begin().await.unwrap();
    let id = gatehouse::mail::enqueue(&mut tx, &email, app.state.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.state.jobs.raise();
    id
}

async fn claimed(app: &TestApp, id: i64) {
    crate::mailbox::eventually("the email to be claimed", 20, || async {
        let n = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM mail_outbox WHERE id = {id} AND claimed_until IS NOT NULL"
            ))
            .await;
        (n == 1).then_some(())
    })
    .await;
}

/// A worker whose SMTP conversation outlasts the lease keeps its claim by heartbeat: no
/// other instance sends the email meanwhile.
async fn a_live_worker_keeps_its_claim(backend: Backend) {
    let slow =
        crate::mailbox::SmtpServer::start_with_delay(std::time::Duration::from_secs(22)).await;
    let fast = crate::mailbox::SmtpServer::start().await;
    let (slow_dsn, fast_dsn) = (slow.dsn(), fast.dsn());
    let Some(a) = TestApp::spawn_with(backend, |s| s.mailer.dsn = slow_dsn).await else {
        return;
    };
    let id = queue_one(&a, "kept@example.com").await;
    claimed(&a, id).await;
    let b = a.spawn_sibling(|s| s.mailer.dsn = fast_dsn).await;
    b.state.jobs.raise();
    crate::mailbox::eventually("the slow delivery", 40, || async {
        (a.scalar(&format!(
            "SELECT COUNT(*) FROM mail_outbox WHERE id = {id} AND sent_at IS NOT NULL"
        ))
        .await
            == 1)
            .then_some(())
    })
    .await;
    assert!(
        fast.deliveries().is_empty(),
        "nobody else sent it while it was in hand"
    );
    assert_eq!(slow.deliveries().len(), 1);
    assert_eq!(
        a.scalar(&format!(
            "SELECT CAST(attempts AS BIGINT) FROM mail_outbox WHERE id = {id}"
        ))
        .await,
        1
    );
    b.stop().await;
}

/// The emails a killed process had claimed are sent by another within a minute.
async fn a_killed_workers_emails_are_taken_over(backend: Backend) {
    let stuck =
        crate::mailbox::SmtpServer::start_with_delay(std::time::Duration::from_secs(120)).await;
    let fast = crate::mailbox::SmtpServer::start().await;
    let (stuck_dsn, fast_dsn) = (stuck.dsn(), fast.dsn());
    let Some(mut a) = TestApp::spawn_with(backend, |s| s.mailer.dsn = stuck_dsn).await else {
        return;
    };
    let id = queue_one(&a, "taken-over@example.com").await;
    claimed(&a, id).await;
    let b = a.spawn_sibling(|s| s.mailer.dsn = fast_dsn).await;
    a.kill().await;
    let killed = std::time::Instant::now();
    crate::mailbox::eventually("the take-over", 60, || async {
        (!fast.deliveries().is_empty()).then_some(())
    })
    .await;
    assert!(killed.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(fast.deliveries()[0].mail.to, "taken-over@example.com");
    assert!(stuck.deliveries().is_empty());
    assert_eq!(
        b.scalar(&format!(
            "SELECT CAST(attempts AS BIGINT) FROM mail_outbox WHERE id = {id}"
        ))
        .await,
        2
    );
    b.stop().await;
}
