//! The JSON:API with WSSE: keys obtained through the user page, headers computed here
//! independently of the code under test (sha1 + base64 directly), every refusal, every
//! error path, permissions and the lifecycle rules, and the documented routes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::both_backends;
use crate::common::{
    Backend, TestApp, csrf_from, location, login_with, new_client, text_of, texts,
};

both_backends!(
    wsse_with_a_key_from_the_user_page_is_accepted,
    wsse_refusals_say_what_is_wrong,
    a_nonce_sent_many_times_at_once_is_accepted_once,
    unknown_user_and_wrong_key_are_indistinguishable,
    refused_accounts_and_own_keys,
    regenerating_replaces_the_key_at_once,
);

pub(crate) const CHALLENGE: &str = r#"WSSE realm="Secured API", profile="UsernameToken""#;
pub(crate) const JSON_API: &str = "application/vnd.api+json";

pub fn rfc3339(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

/// An X-WSSE header, computed from the formula alone.
pub(crate) fn wsse_with(username: &str, key: &str, nonce: &[u8], created: &str) -> String {
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(created.as_bytes());
    h.update(key.as_bytes());
    let digest = STANDARD.encode(h.finalize());
    format!(
        r#"UsernameToken Username="{username}", PasswordDigest="{digest}", Nonce="{}", Created="{created}""#,
        STANDARD.encode(nonce)
    )
}

pub fn wsse(username: &str, key: &str, created: &str) -> String {
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    wsse_with(username, key, &nonce, created)
}

/// An API client for one user: a fresh header for every request, no cookies.
pub(crate) struct Api<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) client: reqwest::Client,
    pub(crate) username: String,
    pub(crate) key: String,
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) challenge: Option<String>,
    pub(crate) content_type: String,
    pub(crate) location: String,
    /// `X-Include-Total-Count`, when the count was asked for.
    pub(crate) total_count: Option<String>,
    pub(crate) body: Value,
}

impl Answer {
    /// The first error object.
    pub(crate) fn error(&self) -> &Value {
        &self.body["errors"][0]
    }

    pub(crate) fn detail(&self) -> &str {
        self.error()["detail"].as_str().unwrap_or("")
    }
}

pub(crate) async fn answer(r: reqwest::Response) -> Answer {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let challenge = header("www-authenticate");
    let content_type = header("content-type").unwrap_or_default();
    let location = header("location").unwrap_or_default();
    let total_count = header("x-include-total-count");
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
    };
    Answer {
        status,
        challenge,
        content_type,
        location,
        total_count,
        body,
    }
}

impl<'a> Api<'a> {
    pub(crate) fn new(app: &'a TestApp, username: &str, key: &str) -> Self {
        Self {
            app,
            client: reqwest::Client::new(),
            username: username.into(),
            key: key.into(),
        }
    }

    pub(crate) fn header(&self) -> String {
        wsse(
            &self.username,
            &self.key,
            &rfc3339(self.app.state.clock.now()),
        )
    }

    pub(crate) async fn with_header(&self, method: Method, path: &str, header: &str) -> Answer {
        let r = self
            .client
            .request(method, self.app.url(path))
            .header("X-WSSE", header)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .client
            .request(method, self.app.url(path))
            .header("X-WSSE", self.header())
            .header("Accept", JSON_API);
        if let Some(b) = body {
            req = req.header("Content-Type", JSON_API).body(b.to_string());
        }
        answer(req.send().await.unwrap()).await
    }

    pub(crate) async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Answer {
        let r = self
            .client
            .request(method, self.app.url(path))
            .header("X-WSSE", self.header())
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    /// A list request that asks for the count of matches, as Oro's clients do.
    pub(crate) async fn get_counted(&self, path: &str) -> Answer {
        let r = self
            .client
            .get(self.app.url(path))
            .header("X-WSSE", self.header())
            .header("Accept", JSON_API)
            .header("X-Include", "totalCount")
            .send()
            .await
            .unwrap();
        answer(r).await
    }
}

/// The key shown on a user page, or None ("No key yet").
pub(crate) fn key_on_page(html: &str) -> Option<String> {
    texts(html, "#api-key").into_iter().next()
}

/// An administrator (signed in on `app.client`) presses "Generate Key" on a user's page
/// and reads the key from it.
pub(crate) async fn generate_key(app: &TestApp, user: i64) -> String {
    let page = format!("/admin/user/view/{user}");
    let (_, html) = app.get_html(&page).await;
    let r = app
        .post_form(
            &format!("/admin/user/apigen/{user}"),
            &html,
            &[("return", &page)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), page);
    let (_, html) = app.get_html(&page).await;
    assert_eq!(
        texts(&html, ".flash-success"),
        vec!["API key generated. Any previous key of this user no longer works."]
    );
    key_on_page(&html).expect("the page shows the key")
}

/// The HTML of a page, as the browser signed in on `client` sees it.
pub(crate) async fn html_of(client: &reqwest::Client, url: &str) -> String {
    text_of(client, url).await
}

/// A user signed in on `client` generates their own key on "My User".
pub(crate) async fn generate_own_key(app: &TestApp, client: &reqwest::Client, me: i64) -> String {
    let profile = app.url("/admin/user/profile/view");
    let html = html_of(client, &profile).await;
    let token = csrf_from(&html).unwrap();
    let r = client
        .post(app.url(&format!("/admin/user/apigen/{me}")))
        .form(&[
            ("_csrf", token.as_str()),
            ("return", "/admin/user/profile/view"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/admin/user/profile/view");
    let html = html_of(client, &profile).await;
    key_on_page(&html).expect("My User shows the key")
}

pub(crate) async fn blobs(app: &TestApp, sql: &str) -> Vec<Vec<u8>> {
    match &app.state.db {
        gatehouse::store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        gatehouse::store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

pub(crate) async fn sql_fails(app: &TestApp, sql: &str) -> bool {
    match &app.state.db {
        gatehouse::store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
        gatehouse::store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
    }
}

pub(crate) fn usernames(a: &Answer) -> Vec<String> {
    a.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("a collection: {}", a.body))
        .iter()
        .map(|r| r["attributes"]["username"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn assert_refused(a: &Answer, detail_part: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    assert_eq!(a.challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(a.content_type, JSON_API);
    assert_eq!(a.error()["status"], "401");
    assert!(
        a.detail().contains(detail_part),
        "expected {detail_part:?} in {}",
        a.body
    );
}

/// An error answer: its status, and the `source` member of the first error.
pub(crate) fn assert_error(a: &Answer, status: u16, source: Value) {
    assert_eq!(a.status.as_u16(), status, "{}", a.body);
    assert_eq!(a.content_type, JSON_API);
    assert_eq!(a.error()["status"], status.to_string());
    assert!(!a.detail().is_empty());
    assert!(!a.error()["title"].as_str().unwrap_or("").is_empty());
    assert_eq!(a.error()["source"], source, "{}", a.body);
}

pub(crate) fn user_doc(attributes: Value) -> Value {
    json!({ "data": { "type": "users", "attributes": attributes } })
}

pub(crate) async fn wsse_with_a_key_from_the_user_page_is_accepted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let (_, html) = app.get_html("/admin/user/view/1").await;
    assert_eq!(key_on_page(&html), None);
    assert!(
        texts(&html, "dd.api-key")
            .iter()
            .any(|t| t.contains("No key yet"))
    );
    assert!(texts(&html, "dd.api-key button").contains(&"Generate Key".to_string()));

    let key = generate_key(&app, 1).await;
    assert_eq!(key.len(), 40);
    assert!(
        key.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let r = app.get("/admin/user/view/1").await;
    assert_eq!(
        r.headers().get("cache-control").unwrap(),
        "no-store",
        "a page showing a key is not cached"
    );
    let (_, html) = app.get_html("/admin/user/view/1").await;
    assert!(texts(&html, "table.compact td").contains(&"API key generated".to_string()));
    // Encrypted at rest, never in the audit log.
    let stored = blobs(&app, "SELECT key_ciphertext FROM api_keys").await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].windows(40).any(|w| w == key.as_bytes()));
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%{key}%'"
        ))
        .await,
        0
    );

    let api = Api::new(&app, "admin", &key);
    let a = api.get("/api/users/1").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.content_type, JSON_API);
    assert_eq!(a.body["data"]["type"], "users");
    assert_eq!(a.body["data"]["id"], "1");
    let attrs = &a.body["data"]["attributes"];
    assert_eq!(attrs["username"], "admin");
    assert_eq!(attrs["enabled"], true);
    assert_eq!(attrs["authStatus"], "active");
    assert!(attrs["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(attrs.get("password").is_none() && attrs.get("passwordHash").is_none());

    // Clients often add `Authorization: WSSE profile=...`; it changes nothing.
    let r = api
        .client
        .get(app.url("/api/users"))
        .header("X-WSSE", api.header())
        .header("Authorization", r#"WSSE profile="UsernameToken""#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A Created with an offset, hashed as sent; a few seconds of client clock skew.
    let now = app.state.clock.now();
    let created = OffsetDateTime::from_unix_timestamp(now)
        .unwrap()
        .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap())
        .format(&Rfc3339)
        .unwrap();
    assert!(created.ends_with("+02:00"));
    let a = api
        .with_header(Method::GET, "/api/users", &wsse("admin", &key, &created))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = api
        .with_header(
            Method::GET,
            "/api/users",
            &wsse("admin", &key, &rfc3339(now + 60)),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // The sign-in name may be the email, as on the login page.
    let a = api
        .with_header(
            Method::GET,
            "/api/users",
            &wsse("admin@example.com", &key, &rfc3339(now)),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // No credentials: 401 with the challenge. A back-office session is not a credential.
    let a = answer(api.client.get(app.url("/api/users")).send().await.unwrap()).await;
    assert_refused(&a, "X-WSSE");
    assert_eq!(a.error().get("source"), None);
    let a = answer(app.get("/api/users").await).await;
    assert_refused(&a, "Authentication required");
    let r = api
        .client
        .get(app.url("/api/users"))
        .header("Authorization", "Bearer abc.def.ghi")
        .send()
        .await
        .unwrap();
    assert_refused(&answer(r).await, "The access token is invalid");
    let r = api
        .client
        .get(app.url("/api/users"))
        .header("Authorization", r#"WSSE profile="UsernameToken""#)
        .send()
        .await
        .unwrap();
    assert_refused(
        &answer(r).await,
        "X-WSSE header with the UsernameToken is missing",
    );
}

pub(crate) async fn wsse_refusals_say_what_is_wrong(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);
    let now = app.state.clock.now();

    // The same token twice: the nonce is accepted once.
    let header = wsse("admin", &key, &rfc3339(now));
    assert_eq!(
        api.with_header(Method::GET, "/api/users", &header)
            .await
            .status,
        StatusCode::OK
    );
    let a = api.with_header(Method::GET, "/api/users", &header).await;
    assert_refused(&a, "Previously used nonce detected.");
    assert_eq!(a.error()["source"], json!({ "header": "X-WSSE" }));

    // Too old, from the future, and expiring while the clock moves on.
    let a = api
        .with_header(
            Method::GET,
            "/api/users",
            &wsse("admin", &key, &rfc3339(now - 3601)),
        )
        .await;
    assert_refused(&a, "Token has expired.");
    let a = api
        .with_header(
            Method::GET,
            "/api/users",
            &wsse("admin", &key, &rfc3339(now + 3600)),
        )
        .await;
    assert_refused(&a, "Future token detected.");
    let fresh = wsse("admin", &key, &rfc3339(now));
    app.state.clock.advance(3601);
    let a = api.with_header(Method::GET, "/api/users", &fresh).await;
    assert_refused(&a, "Token has expired.");
    let now = app.state.clock.now();
    // Nonces are kept only while their token could be valid.
    assert_eq!(app.scalar("SELECT COUNT(*) FROM wsse_nonces").await, 1);
    gatehouse::api_keys::purge_nonces(&app.state).await.unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM wsse_nonces").await, 0);

    // A digest made with another key.
    let mut wrong = key.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let a = api
        .with_header(
            Method::GET,
            "/api/users",
            &wsse("admin", &wrong, &rfc3339(now)),
        )
        .await;
    assert_refused(&a, "the username, the API key or the digest is wrong");
    // Only a correct digest records its nonce: a guess cannot use up a client's nonce.
    let (nonce, created) = ([42u8; 16], rfc3339(now));
    let a = api
        .with_header(
            Method::GET,
            "/api/users",
            &wsse_with("admin", &wrong, &nonce, &created),
        )
        .await;
    assert_refused(&a, "wrong");
    let a = api
        .with_header(
            Method::GET,
            "/api/users",
            &wsse_with("admin", &key, &nonce, &created),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // Malformed headers: a helpful message pointing at the header.
    let good = wsse("admin", &key, &rfc3339(now));
    for (header, part) in [
        ("garbage".to_owned(), "must start with \"UsernameToken \""),
        (
            good.replace(", Nonce=", ", Nonse="),
            "unknown field \"Nonse\"",
        ),
        (
            good.replace("Created=\"", "Created=\"yesterday "),
            "Incorrectly formatted created",
        ),
        (
            good.split(", Created=").next().unwrap().to_owned(),
            "Created is missing",
        ),
        (
            good.replace("PasswordDigest=\"", "PasswordDigest=\"x"),
            "PasswordDigest must be the base64 of a SHA-1 digest",
        ),
    ] {
        let a = api.with_header(Method::GET, "/api/users", &header).await;
        assert_refused(&a, part);
        assert!(
            a.detail()
                .contains("It must look like: UsernameToken Username=")
                || part.starts_with("Incorrectly")
        );
        assert_eq!(a.error()["source"], json!({ "header": "X-WSSE" }));
    }
    // The well-formed header was never used above, so it still works.
    assert_eq!(
        api.with_header(Method::GET, "/api/users", &good)
            .await
            .status,
        StatusCode::OK
    );
}

/// Nonces are written in groups (`api_keys::nonces`): the same token sent many times
/// at once is still accepted once, and distinct tokens sent with it are all accepted.
pub(crate) async fn a_nonce_sent_many_times_at_once_is_accepted_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);
    let now = rfc3339(app.state.clock.now());
    let same = wsse("admin", &key, &now);
    let distinct: Vec<String> = (0..20).map(|_| wsse("admin", &key, &now)).collect();
    let requests = std::iter::repeat_n(&same, 20)
        .chain(&distinct)
        .map(|h| api.with_header(Method::GET, "/api/users?page[size]=1", h));
    let answers = futures_util::future::join_all(requests).await;
    let (same, distinct) = answers.split_at(20);

    let accepted: Vec<&Answer> = same.iter().filter(|a| a.status == StatusCode::OK).collect();
    assert_eq!(accepted.len(), 1, "the same nonce is accepted exactly once");
    for a in same.iter().filter(|a| a.status != StatusCode::OK) {
        assert_refused(a, "Previously used nonce detected.");
    }
    for a in distinct {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM wsse_nonces").await, 21);

    // Queued from one task, these land in the same group or few groups: a nonce repeated
    // within a group is new only once.
    let now = app.state.clock.now();
    let nonces = &app.state.nonces;
    let repeated = (0..10).map(|_| nonces.remember("repeated", now + 60, now));
    let fresh = (0..10).map(|i| format!("fresh-{i}")).collect::<Vec<_>>();
    let fresh = fresh.iter().map(|n| nonces.remember(n, now + 60, now));
    let new: Vec<bool> = futures_util::future::join_all(repeated.chain(fresh))
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(new[..10].iter().filter(|n| **n).count(), 1, "{new:?}");
    assert!(new[10..].iter().all(|n| *n), "{new:?}");
}

pub(crate) async fn unknown_user_and_wrong_key_are_indistinguishable(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    app.create_plain_user("bob", "Bob-pass-123");
    let api = Api::new(&app, "admin", &key);
    let now = rfc3339(app.state.clock.now());
    let nonce = [7u8; 16];
    let other_key = "0123456789abcdef0123456789abcdef01234567";
    let mut answers = Vec::new();
    for (i, (user, key)) in [
        ("admin", other_key),     // the right user, a wrong key
        ("nobody", key.as_str()), // a user who does not exist
        ("bob", other_key),       // a user who has no key at all
    ]
    .into_iter()
    .enumerate()
    {
        let mut n = nonce;
        n[0] = i as u8;
        let a = api
            .with_header(Method::GET, "/api/users", &wsse_with(user, key, &n, &now))
            .await;
        assert_refused(&a, "wrong");
        answers.push((a.status, a.challenge, a.content_type, a.body));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
}

pub(crate) async fn refused_accounts_and_own_keys(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let (bob_client, _) = new_client();
    login_with(&bob_client, &app.base, "bob", "Bob-pass-123").await;
    // A user generates their own key on My User...
    let key = generate_own_key(&app, &bob_client, bob).await;
    let api = Api::new(&app, "bob", &key);
    assert_eq!(api.get("/api/users").await.status, StatusCode::OK);
    // ...but nobody else's.
    let html = html_of(&bob_client, &app.url("/admin/user/profile/view")).await;
    let r = bob_client
        .post(app.url("/admin/user/apigen/1"))
        .form(&[("_csrf", csrf_from(&html).unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM api_keys WHERE user_id = 1")
            .await,
        0
    );
    // Without a CSRF token, not even one's own.
    let r = bob_client
        .post(app.url(&format!("/admin/user/apigen/{bob}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    app.login_as_admin().await;
    app.post(&format!("/admin/user/disable/{bob}"), &[]).await;
    assert_refused(&api.get("/api/users").await, "Your account is disabled.");
    app.post(&format!("/admin/user/enable/{bob}"), &[]).await;
    assert_eq!(api.get("/api/users").await.status, StatusCode::OK);

    app.sql(&format!(
        "UPDATE users SET auth_status = 'locked' WHERE id = {bob}"
    ))
    .await;
    assert_refused(&api.get("/api/users").await, "locked");
    app.sql(&format!(
        "UPDATE users SET auth_status = 'password_reset' WHERE id = {bob}"
    ))
    .await;
    assert_refused(&api.get("/api/users").await, "Your password was reset.");
    app.sql(&format!(
        "UPDATE users SET auth_status = 'active' WHERE id = {bob}"
    ))
    .await;
    app.sql("UPDATE organizations SET enabled = FALSE WHERE id = 1")
        .await;
    assert_refused(
        &api.get("/api/users").await,
        "The organization of this API key is disabled.",
    );
    app.sql("UPDATE organizations SET enabled = TRUE WHERE id = 1")
        .await;
    assert_eq!(api.get("/api/users").await.status, StatusCode::OK);
}

pub(crate) async fn regenerating_replaces_the_key_at_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let first = generate_key(&app, bob).await;
    let old = Api::new(&app, "bob", &first);
    assert_eq!(old.get("/api/users").await.status, StatusCode::OK);

    let second = generate_key(&app, bob).await;
    assert_ne!(first, second);
    assert_refused(&old.get("/api/users").await, "wrong");
    let new = Api::new(&app, "bob", &second);
    assert_eq!(new.get("/api/users").await.status, StatusCode::OK);

    // One key per user per organization: generating again replaced the row, and the
    // database refuses a second one.
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM api_keys WHERE user_id = {bob}"
        ))
        .await,
        1
    );
    assert!(
        sql_fails(
            &app,
            &format!(
                "INSERT INTO api_keys (user_id, organization_id, key_ciphertext, key_nonce, created_at) \
                 SELECT user_id, organization_id, key_ciphertext, key_nonce, created_at FROM api_keys WHERE user_id = {bob}"
            )
        )
        .await
    );
    // Deleting the user takes their key along.
    let r = app.post(&format!("/admin/user/delete/{bob}"), &[]).await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM api_keys").await, 0);
}
