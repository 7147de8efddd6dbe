//! The mail outbox and the password reset flows, with the email read for real: from the
//! `file://` transport's .eml files, or from an SMTP server on loopback.

use std::collections::HashMap;
use std::time::Duration;

use gatehouse::access::Actor;
use gatehouse::config::Settings;
use gatehouse::domain::UserId;
use gatehouse::mail::{self, Email};
use gatehouse::passwords;
use gatehouse::startup::Application;
use gatehouse::store::audit;
use gatehouse::store::outbox::{self, OutboxEntry};
use gatehouse::users::bootstrap::BootstrapAdmin;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, ScratchDb, TestApp, csrf_from, location, login_with, text_of, texts};
use crate::mailbox::{Mail, SmtpServer, eventually, wait_for_files};

both_backends!(
    forgot_password_link_sets_a_new_password_once,
    reset_links_expire_and_only_the_newest_works,
    unknown_or_disabled_accounts_get_the_same_answer_and_no_email,
    forgot_password_is_rate_limited,
    admin_reset_blocks_login_and_ends_sessions,
    password_changed_email_never_contains_the_password,
    smtp_delivery_is_retried_until_the_server_is_back,
    two_workers_never_send_a_row_twice,
    unusable_mailer_settings_stop_start_up,
);

const LINK_PREFIX: &str = "http://127.0.0.1:8080/admin/user/reset/";
const ANSWER: &str =
    "If the account exists, we have sent an email with a link to reset the password.";

/// Submits "Forgot your password?" from a fresh browser.
async fn forgot_request(app: &TestApp, login: &str) -> (reqwest::Client, reqwest::Response) {
    let (client, _) = app.new_browser();
    let page = text_of(&client, app.url("/admin/user/reset-request")).await;
    let token = csrf_from(&page).unwrap();
    let r = client
        .post(app.url("/admin/user/reset-request"))
        .form(&[("_csrf", token.as_str()), ("username", login)])
        .send()
        .await
        .unwrap();
    (client, r)
}

/// The request answered as a normal one: returns the flash shown after it.
async fn forgot(app: &TestApp, login: &str) -> String {
    let (client, r) = forgot_request(app, login).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{login}");
    assert_eq!(location(&r), "/admin/user/login");
    let html = text_of(&client, app.url("/admin/user/login")).await;
    texts(&html, ".flash").join(" | ")
}

/// The path of the reset link in `mail`, checked to be an absolute link under public_url.
fn reset_path(mail: &Mail) -> String {
    let link = mail.link(LINK_PREFIX).expect("the email has a reset link");
    assert!(link.len() > LINK_PREFIX.len() + 40, "{link}");
    assert!(
        mail.html.as_deref().unwrap_or("").contains(&link),
        "the HTML part has the same link"
    );
    link.trim_start_matches("http://127.0.0.1:8080").to_owned()
}

/// Sets a new password through the reset page in a fresh browser. Returns the response.
async fn set_password(app: &TestApp, path: &str, pw: &str, repeat: &str) -> reqwest::Response {
    let (client, _) = app.new_browser();
    let page = client.get(app.url(path)).send().await.unwrap();
    let status = page.status();
    let html = page.text().await.unwrap();
    let token = match csrf_from(&html) {
        Some(t) => t,
        None => panic!("reset page {status} has no form: {html}"),
    };
    client
        .post(app.url(path))
        .form(&[
            ("_csrf", token.as_str()),
            ("password", pw),
            ("password_repeat", repeat),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs in from a browser of its own, so earlier sign-ins in the test do not interfere.
async fn login_fresh(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let (client, _) = app.new_browser();
    login_with(&client, &app.base, username, password).await
}

async fn outbox_rows(app: &TestApp) -> Vec<OutboxEntry> {
    outbox::recent(&app.state.db, 1000).await.unwrap()
}

async fn forgot_password_link_sets_a_new_password_once(backend: Backend) {
    let Some((app, dir)) = TestApp::spawn_with_mail_dir(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");

    let (status, page) = app.get_html("/admin/user/reset-request").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&page, "h1"), vec!["Forgot your password?"]);
    assert_eq!(texts(&page, "label"), vec!["Username or Email"]);
    assert_eq!(texts(&page, "main button[type=submit]"), vec!["Request"]);
    let (_, login_page) = app.get_html("/admin/user/login").await;
    assert!(login_page.contains(r#"href="/admin/user/reset-request""#));

    // By email, in another case: the same account.
    assert_eq!(forgot(&app, "BOB@Example.com").await, ANSWER);
    let mails = wait_for_files(dir.path(), 1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, "bob@example.com");
    assert_eq!(mail.subject, "Reset your Gatehouse password");
    assert!(mail.text.contains("Hello bob,"), "{}", mail.text);
    assert!(mail.text.contains("expires in 24 hours"), "{}", mail.text);
    let path = reset_path(mail);

    // A request anyone can make locks nobody out.
    let (bob_browser, _) = app.new_browser();
    let r = login_with(&bob_browser, &app.base, "bob", "Bob-pass-123").await;
    assert_eq!(location(&r), "/admin/user/profile/view");

    let r = app.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "label"),
        vec!["New password", "Repeat new password"]
    );
    assert!(html.contains("<strong>bob</strong>"));

    // Mismatch and policy errors, shown beside the field, change nothing.
    let r = set_password(&app, &path, "New-pass-456", "New-pass-457").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#password-repeat-error"),
        vec!["The passwords do not match."]
    );
    let r = set_password(&app, &path, "short", "short").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#password-error"),
        vec!["The password must contain at least 8 characters, an upper-case letter and a number."]
    );

    // The real thing.
    let (client, _) = app.new_browser();
    let page = text_of(&client, app.url(&path)).await;
    let token = csrf_from(&page).unwrap();
    let r = client
        .post(app.url(&path))
        .form(&[
            ("_csrf", token.as_str()),
            ("password", "New-pass-456"),
            ("password_repeat", "New-pass-456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/user/login");
    let html = text_of(&client, app.url("/admin/user/login")).await;
    assert_eq!(
        texts(&html, ".flash-success"),
        vec!["Your password was changed. You can log in now."]
    );

    // The old password is gone, the new one works; bob's earlier session was ended.
    let r = bob_browser
        .get(app.url("/admin/user/profile/view"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "live session ended");
    let html = login_fresh(&app, "bob", "Bob-pass-123")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".login .flash-error"),
        vec!["Your login was unsuccessful"]
    );
    let r = login_fresh(&app, "bob", "New-pass-456").await;
    assert_eq!(location(&r), "/admin/user/profile/view");

    // The link works once.
    let r = app.get(&path).await;
    assert_eq!(r.status(), StatusCode::GONE);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "This password reset link is invalid, has already been used, or has expired."
        )
    );
    assert!(html.contains(r#"href="/admin/user/reset-request""#));
    let r = set_password_direct(&app, &path, "Other-pass-789").await;
    assert_eq!(r, StatusCode::GONE);
    let r = login_fresh(&app, "bob", "New-pass-456").await;
    assert_eq!(location(&r), "/admin/user/profile/view", "unchanged");
}

/// Posts to a reset link with a CSRF token from another page (the link's own page is gone).
async fn set_password_direct(app: &TestApp, path: &str, pw: &str) -> StatusCode {
    let (client, _) = app.new_browser();
    let page = text_of(&client, app.url("/admin/user/reset-request")).await;
    let token = csrf_from(&page).unwrap();
    client
        .post(app.url(path))
        .form(&[
            ("_csrf", token.as_str()),
            ("password", pw),
            ("password_repeat", pw),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

async fn reset_links_expire_and_only_the_newest_works(backend: Backend) {
    let Some((app, dir)) = TestApp::spawn_with_mail_dir(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    forgot(&app, "bob").await;
    let first = reset_path(&wait_for_files(dir.path(), 1).await[0]);
    assert_eq!(app.get(&first).await.status(), StatusCode::OK);

    // Expired: one second past the configured lifetime.
    let ttl = i64::try_from(app.state.settings.security.password_reset_ttl).unwrap();
    app.state.clock.advance(ttl + 1);
    assert_eq!(app.get(&first).await.status(), StatusCode::GONE);
    assert_eq!(
        set_password_direct(&app, &first, "New-pass-456").await,
        StatusCode::GONE
    );

    // Two new requests: only the newest link works.
    forgot(&app, "bob").await;
    let second = reset_path(wait_for_files(dir.path(), 2).await.last().unwrap());
    forgot(&app, "bob").await;
    let mails = wait_for_files(dir.path(), 3).await;
    let paths: Vec<String> = mails.iter().map(reset_path).collect();
    let third = paths
        .iter()
        .find(|p| **p != first && **p != second)
        .unwrap()
        .clone();
    assert_eq!(app.get(&second).await.status(), StatusCode::GONE);
    let r = set_password(&app, &third, "New-pass-456", "New-pass-456").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Unknown and malformed tokens.
    for bad in [
        "/admin/user/reset/ghr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/admin/user/reset/nonsense",
        &format!("/admin/user/reset/ghr_{}", "x".repeat(500)),
    ] {
        assert_eq!(app.get(bad).await.status(), StatusCode::GONE, "{bad}");
    }
    let r = login_fresh(&app, "bob", "New-pass-456").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
}

async fn unknown_or_disabled_accounts_get_the_same_answer_and_no_email(backend: Backend) {
    let Some((app, dir)) = TestApp::spawn_with_mail_dir(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    app.create_plain_user("carl", "Carl-pass-123");
    app.sql("UPDATE users SET enabled = FALSE WHERE username_key = 'carl'")
        .await;
    assert_eq!(forgot(&app, "nobody").await, ANSWER);
    assert_eq!(forgot(&app, "nobody@example.com").await, ANSWER);
    assert_eq!(forgot(&app, "carl").await, ANSWER);
    // A blank field is a form error, which says nothing about any account.
    let (_, page) = app.get_html("/admin/user/reset-request").await;
    let r = app
        .post_form("/admin/user/reset-request", &page, &[("username", "  ")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#username-error"),
        vec!["This value should not be blank."]
    );

    // The worker is running (bob's email arrives), and it was the only one queued.
    assert_eq!(forgot(&app, "bob").await, ANSWER);
    let mails = wait_for_files(dir.path(), 1).await;
    assert_eq!(mails[0].to, "bob@example.com");
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].template, "reset_password");
}

async fn forgot_password_is_rate_limited(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    app.create_plain_user("carol", "Carol-pass-123");
    // Start just after a 15-minute window begins, so the test never straddles two.
    let now = app.state.clock.now();
    app.state.clock.advance(15 * 60 - now % (15 * 60) + 1);
    // Five per account per window; the sixth is 429 with Retry-After (RFC 6585 section 4),
    // and sends nothing.
    let throttled = async |login: &str| {
        let (_, r) = forgot_request(&app, login).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{login}");
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
        let html = r.text().await.unwrap();
        assert!(html.contains("Too many failed attempts"), "{html}");
    };
    for _ in 0..5 {
        assert_eq!(forgot(&app, "bob").await, ANSWER);
    }
    throttled("bob").await;
    assert_eq!(outbox_rows(&app).await.len(), 5);
    // A name nobody has is limited the same way, so the limit tells nothing.
    for _ in 0..5 {
        assert_eq!(forgot(&app, "ghost").await, ANSWER);
    }
    throttled("ghost").await;
    // Twenty per client address: 10 so far, 10 more, then carol is refused too.
    for i in 0..10 {
        assert_eq!(forgot(&app, &format!("nobody{i}")).await, ANSWER);
    }
    throttled("carol").await;
    assert_eq!(outbox_rows(&app).await.len(), 5);
    // The next window starts afresh.
    app.state.clock.advance(15 * 60);
    assert_eq!(forgot(&app, "carol").await, ANSWER);
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].recipient, "carol@example.com");
}

async fn admin_reset_blocks_login_and_ends_sessions(backend: Backend) {
    let Some((app, dir)) = TestApp::spawn_with_mail_dir(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let (bob_browser, _) = app.new_browser();
    let r = login_with(&bob_browser, &app.base, "bob", "Bob-pass-123").await;
    assert_eq!(location(&r), "/admin/user/profile/view");

    let admin = Actor {
        user_id: Some(UserId(1)),
        name: "admin".into(),
        ip: Some("127.0.0.1".into()),
        authority: gatehouse::access::Authority::System,
    };
    // Not on oneself.
    let own = passwords::request_reset(&app.state, &admin, UserId(1)).await;
    assert!(matches!(own, Err(gatehouse::error::AppError::Forbidden(_))));
    let missing = passwords::request_reset(&app.state, &admin, UserId(9999)).await;
    assert!(matches!(missing, Err(gatehouse::error::AppError::NotFound)));

    let user = passwords::request_reset(&app.state, &admin, UserId(bob))
        .await
        .unwrap();
    assert_eq!(user.email, "bob@example.com");

    // Bob's live session ends; the right password now gets the reason.
    let r = bob_browser
        .get(app.url("/admin/user/profile/view"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = login_fresh(&app, "bob", "Bob-pass-123")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".login .flash-error"),
        vec!["Your login was unsuccessful"],
        "waiting for a reset: the right password is not told apart"
    );
    app.login_as_admin().await;
    let (_, grid) = app.get_html("/admin/user").await;
    assert!(texts(&grid, "table.datagrid tbody td").contains(&"Password reset".to_string()));
    let history = audit::recent_for(&app.state.db, UserId(bob), 10)
        .await
        .unwrap();
    assert_eq!(history[0].action.stored, "password.reset_requested");
    assert_eq!(history[0].actor_name.as_deref(), Some("admin"));

    let mails = wait_for_files(dir.path(), 1).await;
    assert!(
        mails[0]
            .text
            .contains("An administrator has reset the password")
    );
    let path = reset_path(&mails[0]);
    let r = set_password(&app, &path, "New-pass-456", "New-pass-456").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = login_fresh(&app, "bob", "New-pass-456").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
    let (_, grid) = app.get_html("/admin/user").await;
    assert!(!texts(&grid, "table.datagrid tbody td").contains(&"Password reset".to_string()));

    // The mass reset skips the actor and disabled users.
    let carl = app.create_plain_user("carl", "Carl-pass-123");
    let dora = app.create_plain_user("dora", "Dora-pass-123");
    app.sql("UPDATE users SET enabled = FALSE WHERE username_key = 'dora'")
        .await;
    let done =
        passwords::request_reset_many(&app.state, &admin, &[1, bob, carl, dora, 9999].map(UserId))
            .await
            .unwrap();
    let names: Vec<&str> = done.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["bob", "carl"]);
    let mails = wait_for_files(dir.path(), 3).await;
    assert_eq!(mails.len(), 3);
}

async fn password_changed_email_never_contains_the_password(backend: Backend) {
    let Some((app, dir)) = TestApp::spawn_with_mail_dir(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    let admin = Actor {
        user_id: Some(UserId(1)),
        name: "admin".into(),
        ip: None,
        authority: gatehouse::access::Authority::System,
    };
    // The folder is made again when it went missing.
    std::fs::remove_dir(dir.path()).unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    passwords::notify_password_changed_by_admin(
        &app.state,
        &mut tx,
        "bob@example.com",
        "bob",
        &admin,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.state.jobs.raise();
    let mails = wait_for_files(dir.path(), 1).await;
    let m = &mails[0];
    assert_eq!(m.subject, "Your Gatehouse password was changed");
    assert!(
        m.text
            .contains("An administrator (admin) changed the password"),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("http://127.0.0.1:8080/admin/user/reset-request")
    );
    assert!(
        !m.text.contains("Bob-pass-123") && !m.html.as_deref().unwrap().contains("Bob-pass-123")
    );
}

fn email(to: &str, subject: &str) -> Email {
    Email {
        to: to.into(),
        subject: subject.into(),
        text: format!("Body of {subject}\n.\n..leading dots survive\n"),
        html: None,
        template: "test",
    }
}

async fn enqueue(app: &TestApp, emails: &[Email]) -> Vec<i64> {
    let mut tx = app.state.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for e in emails {
        ids.push(
            mail::enqueue(&mut tx, e, app.state.clock.now())
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    app.state.jobs.raise();
    ids
}

async fn row(app: &TestApp, id: i64) -> OutboxEntry {
    outbox::get(&app.state.db, id).await.unwrap().unwrap()
}

async fn smtp_delivery_is_retried_until_the_server_is_back(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let dsn = smtp.dsn();
    let Some(app) = TestApp::spawn_with(backend, |s| s.mailer.dsn = dsn).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");

    // Delivered over SMTP, decoded, with the link intact.
    assert_eq!(forgot(&app, "bob").await, ANSWER);
    let first = eventually("the first delivery", 20, || async {
        smtp.deliveries().first().cloned()
    })
    .await;
    assert_eq!(first.mail.to, "bob@example.com");
    let path = reset_path(&first.mail);
    assert_eq!(app.get(&path).await.status(), StatusCode::OK);
    assert!(outbox_rows(&app).await[0].sent_at.is_some());

    // The server goes away: the row stays, with the error and the attempt counted.
    smtp.stop();
    let [id] = enqueue(&app, &[email("carol@example.com", "While down")]).await[..] else {
        unreachable!()
    };
    let failed = eventually("a failed attempt", 20, || async {
        let r = row(&app, id).await;
        r.last_error.is_some().then_some(r)
    })
    .await;
    assert_eq!(failed.attempts, 1);
    assert!(failed.sent_at.is_none() && failed.failed_at.is_none());
    assert!(failed.claimed_until.is_none());
    let wait = failed.next_attempt_at - app.state.clock.now();
    assert!((10..=30).contains(&wait), "retry in about 30 s, got {wait}");

    // Back on the same port; nothing happens before the retry is due, then exactly once.
    smtp.restart().await;
    app.state.jobs.raise();
    assert_eq!(
        row(&app, id).await.attempts,
        1,
        "not retried before it is due"
    );
    app.state.clock.advance(31);
    let sent = eventually("the retried delivery", 20, || async {
        let r = row(&app, id).await;
        r.sent_at.is_some().then_some(r)
    })
    .await;
    assert_eq!(sent.attempts, 2);
    let to_carol: Vec<_> = smtp
        .deliveries()
        .into_iter()
        .filter(|d| d.mail.to == "carol@example.com")
        .collect();
    assert_eq!(to_carol.len(), 1);
    assert_eq!(
        to_carol[0].mail.text.trim_end(),
        "Body of While down\r\n.\r\n..leading dots survive"
    );

    // A message that can never be built is given up at once, its error kept.
    let [bad] = enqueue(&app, &[email("not an address", "Broken")]).await[..] else {
        unreachable!()
    };
    let given_up = eventually("the broken row to be given up", 20, || async {
        let r = row(&app, bad).await;
        r.failed_at.is_some().then_some(r)
    })
    .await;
    assert_eq!(given_up.attempts, 1);
    assert!(given_up.last_error.unwrap().contains("invalid recipient"));
    assert!(given_up.sent_at.is_none());
}

async fn two_workers_never_send_a_row_twice(backend: Backend) {
    // A slow server makes the workers' batches overlap in time.
    let smtp = SmtpServer::start_with_delay(Duration::from_millis(20)).await;
    let (dsn_a, dsn_b) = (
        format!("{}/worker-a", smtp.dsn()),
        format!("{}/worker-b", smtp.dsn()),
    );
    let Some(a) = TestApp::spawn_with(backend, |s| s.mailer.dsn = dsn_a).await else {
        return;
    };
    let b = a.spawn_sibling(|s| s.mailer.dsn = dsn_b).await;

    const N: usize = 80;
    let emails: Vec<Email> = (0..N)
        .map(|i| email(&format!("user{i}@example.com"), &format!("Message {i}")))
        .collect();
    enqueue(&a, &emails).await;
    b.state.jobs.raise();

    let rows = eventually("every row to be sent", 60, || async {
        let rows = outbox_rows(&a).await;
        rows.iter().all(|r| r.sent_at.is_some()).then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), N);
    // Stopping waits for any email in hand, so every send has happened by now.
    b.stop().await;
    a.stop().await;

    let deliveries = smtp.deliveries();
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    let mut per_worker: HashMap<&str, usize> = HashMap::new();
    for d in &deliveries {
        *per_id.entry(d.mail.message_id.as_str()).or_default() += 1;
        *per_worker.entry(d.helo.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(per_id.len(), N);
    assert_eq!(deliveries.len(), N);
    assert!(
        per_worker.get("worker-a").is_some_and(|n| *n > 0)
            && per_worker.get("worker-b").is_some_and(|n| *n > 0),
        "both workers took part: {per_worker:?}"
    );
    // Each row was attempted once.
    assert!(rows.iter().all(|r| r.attempts == 1), "{rows:?}");
}

async fn unusable_mailer_settings_stop_start_up(backend: Backend) {
    let Some(db) = ScratchDb::create(backend).await else {
        return;
    };
    let cases = [
        ("smtp://", "Gatehouse <no-reply@localhost>", "`mailer.dsn`"),
        ("file://", "Gatehouse <no-reply@localhost>", "`mailer.dsn`"),
        ("null://", "not an address", "`mailer.from`"),
    ];
    for (dsn, from, key) in cases {
        let mut settings = Settings::default();
        settings.database.url = db.url.clone();
        settings.server.listen = "127.0.0.1:0".parse().unwrap();
        settings.mailer.dsn = dsn.into();
        settings.mailer.from = from.into();
        let app = Application::build(
            settings,
            &BootstrapAdmin {
                username: "admin".into(),
                email: "admin@example.com".into(),
                password: Some("Admin-Pass-123".into()),
            },
        )
        .await
        .unwrap();
        let err = app.run(std::future::pending()).await.unwrap_err();
        assert!(format!("{err:#}").contains(key), "{dsn} / {from}: {err:#}");
    }
}
