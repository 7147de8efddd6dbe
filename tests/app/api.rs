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
    listing_pages_sorts_and_filters,
    json_api_errors_point_at_the_problem,
    create_update_delete_through_the_api,
    a_user_sees_and_changes_only_themselves,
    lifecycle_rules_hold_in_the_api,
    every_documented_route_exists,
    one_key_per_organization,
);

const CHALLENGE: &str = r#"WSSE realm="Secured API", profile="UsernameToken""#;
const JSON_API: &str = "application/vnd.api+json";

pub fn rfc3339(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

/// An X-WSSE header, computed from the formula alone.
fn wsse_with(username: &str, key: &str, nonce: &[u8], created: &str) -> String {
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
struct Api<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    username: String,
    key: String,
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    content_type: String,
    location: String,
    /// `X-Include-Total-Count`, when the count was asked for.
    total_count: Option<String>,
    body: Value,
}

impl Answer {
    /// The first error object.
    fn error(&self) -> &Value {
        &self.body["errors"][0]
    }

    fn detail(&self) -> &str {
        self.error()["detail"].as_str().unwrap_or("")
    }
}

async fn answer(r: reqwest::Response) -> Answer {
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
    fn new(app: &'a TestApp, username: &str, key: &str) -> Self {
        Self {
            app,
            client: reqwest::Client::new(),
            username: username.into(),
            key: key.into(),
        }
    }

    fn header(&self) -> String {
        wsse(
            &self.username,
            &self.key,
            &rfc3339(self.app.state.clock.now()),
        )
    }

    async fn with_header(&self, method: Method, path: &str, header: &str) -> Answer {
        let r = self
            .client
            .request(method, self.app.url(path))
            .header("X-WSSE", header)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
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

    async fn raw(&self, method: Method, path: &str, content_type: &str, body: &str) -> Answer {
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

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    /// A list request that asks for the count of matches, as Oro's clients do.
    async fn get_counted(&self, path: &str) -> Answer {
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
fn key_on_page(html: &str) -> Option<String> {
    texts(html, "#api-key").into_iter().next()
}

/// An administrator (signed in on `app.client`) presses "Generate Key" on a user's page
/// and reads the key from it.
async fn generate_key(app: &TestApp, user: i64) -> String {
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
async fn html_of(client: &reqwest::Client, url: &str) -> String {
    text_of(client, url).await
}

/// A user signed in on `client` generates their own key on "My User".
async fn generate_own_key(app: &TestApp, client: &reqwest::Client, me: i64) -> String {
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

async fn blobs(app: &TestApp, sql: &str) -> Vec<Vec<u8>> {
    match &app.state.db {
        gatehouse::store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        gatehouse::store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

async fn sql_fails(app: &TestApp, sql: &str) -> bool {
    match &app.state.db {
        gatehouse::store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
        gatehouse::store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
    }
}

fn usernames(a: &Answer) -> Vec<String> {
    a.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("a collection: {}", a.body))
        .iter()
        .map(|r| r["attributes"]["username"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_refused(a: &Answer, detail_part: &str) {
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
fn assert_error(a: &Answer, status: u16, source: Value) {
    assert_eq!(a.status.as_u16(), status, "{}", a.body);
    assert_eq!(a.content_type, JSON_API);
    assert_eq!(a.error()["status"], status.to_string());
    assert!(!a.detail().is_empty());
    assert!(!a.error()["title"].as_str().unwrap_or("").is_empty());
    assert_eq!(a.error()["source"], source, "{}", a.body);
}

fn user_doc(attributes: Value) -> Value {
    json!({ "data": { "type": "users", "attributes": attributes } })
}

async fn wsse_with_a_key_from_the_user_page_is_accepted(backend: Backend) {
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

async fn wsse_refusals_say_what_is_wrong(backend: Backend) {
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
async fn a_nonce_sent_many_times_at_once_is_accepted_once(backend: Backend) {
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

async fn unknown_user_and_wrong_key_are_indistinguishable(backend: Backend) {
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

async fn refused_accounts_and_own_keys(backend: Backend) {
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

async fn regenerating_replaces_the_key_at_once(backend: Backend) {
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

async fn listing_pages_sorts_and_filters(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);
    for i in 1..=12 {
        let mut attrs = json!({
            "username": format!("user{i:02}"),
            "email": format!("user{i:02}@example.com"),
            "password": "Secret-pass-1",
            "lastName": format!("Last {}", 13 - i),
        });
        if i % 3 == 0 {
            attrs["enabled"] = json!(true);
        }
        let a = api
            .call(Method::POST, "/api/users", Some(user_doc(attrs)))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }

    // Uncounted by default (as in Oro): next/prev links, no count, no last link.
    let a = api.get("/api/users").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.get("meta").is_none(), "{}", a.body);
    assert!(a.body["links"].get("last").is_none());
    assert_eq!(a.total_count, None);
    let a = api.get_counted("/api/users").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["meta"]["totalCount"], 13);
    assert_eq!(a.total_count.as_deref(), Some("13"));
    let names = usernames(&a);
    assert_eq!(names.len(), 10, "default page size");
    assert_eq!(names[0], "admin", "default sort: username");
    let links = &a.body["links"];
    assert!(
        links["next"]
            .as_str()
            .unwrap()
            .contains("page%5Bnumber%5D=2")
    );
    assert!(links.get("prev").is_none());

    let a = api.get_counted("/api/users?page[number]=2").await;
    assert_eq!(usernames(&a), vec!["user10", "user11", "user12"]);
    assert!(
        a.body["links"]["prev"]
            .as_str()
            .unwrap()
            .contains("page%5Bnumber%5D=1")
    );
    assert!(a.body["links"].get("next").is_none());
    assert!(
        a.body["links"]["last"]
            .as_str()
            .unwrap()
            .contains("page%5Bnumber%5D=2")
    );

    let a = api.get("/api/users?page[size]=3&sort=-username").await;
    assert_eq!(usernames(&a), vec!["user12", "user11", "user10"]);
    assert!(
        a.body["links"]["next"]
            .as_str()
            .unwrap()
            .contains("sort=-username"),
        "links keep the query"
    );
    let a = api
        .get("/api/users?page[size]=2&sort=-enabled,lastName")
        .await;
    // Enabled first, then by last name ("Last 1" < "Last 10" < "Last 4").
    assert_eq!(usernames(&a), vec!["user12", "user03"]);

    let a = api.get("/api/users?filter[username]=USER03").await;
    assert_eq!(usernames(&a), vec!["user03"]);
    let a = api.get_counted("/api/users?filter[username]=user0").await;
    assert_eq!(a.body["meta"]["totalCount"], 0, "exact match, not contains");
    let a = api.get("/api/users?filter[email]=user04@example.com").await;
    assert_eq!(usernames(&a), vec!["user04"]);
    let a = api
        .get("/api/users?filter[enabled]=true&page[size]=100")
        .await;
    assert_eq!(
        usernames(&a),
        vec!["admin", "user03", "user06", "user09", "user12"]
    );
    let a = api.get_counted("/api/users?filter[enabled]=false").await;
    assert_eq!(
        a.body["meta"]["totalCount"], 8,
        "created disabled unless enabled is sent"
    );

    let a = api
        .get("/api/users?fields[users]=username,enabled&page[size]=1")
        .await;
    let mut attrs: Vec<&String> = a.body["data"][0]["attributes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    attrs.sort();
    assert_eq!(attrs, vec!["enabled", "username"]);

    // Only members of the caller's organization exist for the API.
    app.sql("INSERT INTO organizations (name, name_key, enabled, created_at, updated_at) VALUES ('Other', 'other', TRUE, 0, 0)").await;
    app.sql("UPDATE user_organizations SET organization_id = 2 WHERE user_id = (SELECT id FROM users WHERE username = 'user05')").await;
    let a = api.get_counted("/api/users?page[size]=100").await;
    assert_eq!(a.body["meta"]["totalCount"], 12);
    assert!(!usernames(&a).contains(&"user05".to_string()));
}

async fn json_api_errors_point_at_the_problem(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);
    let param = |p: &str| json!({ "parameter": p });
    let pointer = |p: &str| json!({ "pointer": p });

    // Query parameters.
    for (query, name) in [
        ("page[size]=101", "page[size]"),
        ("page[size]=0", "page[size]"),
        ("page[number]=x", "page[number]"),
        ("sort=password", "sort"),
        ("sort=username,-nope", "sort"),
        ("filter[nickname]=x", "filter[nickname]"),
        ("filter[enabled]=maybe", "filter[enabled]"),
        ("fields[users]=password", "fields[users]"),
        ("include=organizations", "include"),
        ("page[size]=5&page[size]=6", "page[size]"),
        ("colour=blue", "colour"),
    ] {
        let a = api.get(&format!("/api/users?{query}")).await;
        assert_error(&a, 400, param(name));
    }
    assert!(
        api.get("/api/users?page[size]=101")
            .await
            .detail()
            .contains("from 1 to 100")
    );
    assert!(
        api.get("/api/users?sort=password")
            .await
            .detail()
            .contains("createdAt")
    );

    // Documents.
    let post = |body: Value| api.call(Method::POST, "/api/users", Some(body));
    let valid =
        || json!({ "username": "carol", "email": "carol@example.com", "password": "Carol-pass-1" });
    let a = api
        .raw(
            Method::POST,
            "/api/users",
            "application/json",
            &user_doc(valid()).to_string(),
        )
        .await;
    assert_error(&a, 415, json!({ "header": "Content-Type" }));
    let a = api
        .raw(Method::POST, "/api/users", "text/plain", "hello")
        .await;
    assert_error(&a, 415, json!({ "header": "Content-Type" }));
    let a = api
        .raw(Method::POST, "/api/users", JSON_API, "{\"data\": ")
        .await;
    assert_error(&a, 400, pointer(""));
    assert!(a.detail().contains("not valid JSON"));
    let a = api.raw(Method::POST, "/api/users", JSON_API, "[1]").await;
    assert_error(&a, 400, pointer(""));
    assert_error(&post(json!({ "meta": {} })).await, 400, pointer("/data"));
    assert_error(&post(json!({ "data": [] })).await, 400, pointer("/data"));
    assert_error(
        &post(json!({ "data": { "attributes": valid() } })).await,
        400,
        pointer("/data/type"),
    );
    assert_error(
        &post(json!({ "data": { "type": "accounts", "attributes": valid() } })).await,
        409,
        pointer("/data/type"),
    );
    assert_error(
        &post(json!({ "data": { "type": "users", "id": "9", "attributes": valid() } })).await,
        403,
        pointer("/data/id"),
    );
    assert_error(
        &post(json!({ "data": { "type": "users", "attributes": [] } })).await,
        400,
        pointer("/data/attributes"),
    );
    assert_error(
        &post(json!({ "data": { "type": "users", "relationships": {} } })).await,
        400,
        pointer("/data/relationships"),
    );
    let mut attrs = valid();
    attrs["nickname"] = json!("caz");
    let a = post(user_doc(attrs)).await;
    assert_error(&a, 400, pointer("/data/attributes/nickname"));
    assert!(a.detail().contains("Unknown attribute \"nickname\""));
    for (name, value) in [
        ("enabled", json!("yes")),
        ("username", json!(5)),
        ("email", json!(null)),
        ("firstName", json!(["Carol"])),
        ("password", json!(12345678)),
        ("createdAt", json!("2026-01-01T00:00:00Z")),
    ] {
        let mut attrs = valid();
        attrs[name] = value;
        let a = post(user_doc(attrs)).await;
        assert_error(&a, 400, pointer(&format!("/data/attributes/{name}")));
    }

    // Rules: 422 with a pointer per field.
    let mut attrs = valid();
    attrs["username"] = json!("BOB");
    let a = post(user_doc(attrs)).await;
    assert_error(&a, 422, pointer("/data/attributes/username"));
    assert_eq!(a.detail(), "This username is already used.");
    let mut attrs = valid();
    attrs["password"] = json!("short");
    let a = post(user_doc(attrs)).await;
    assert_error(&a, 422, pointer("/data/attributes/password"));
    assert!(a.detail().starts_with("The password must contain"));
    let a = post(user_doc(
        json!({ "email": "nope", "birthday": "31/01/1990" }),
    ))
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pointers: Vec<&str> = a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"]["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        vec![
            "/data/attributes/username",
            "/data/attributes/email",
            "/data/attributes/birthday",
            "/data/attributes/password"
        ]
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users").await,
        2,
        "nothing created"
    );

    // PATCH: the id must match, the password is not changed here.
    let patch = |body: Value| api.call(Method::PATCH, "/api/users/1", Some(body));
    let a = patch(json!({ "data": { "type": "users", "id": "2", "attributes": {} } })).await;
    assert_error(&a, 409, pointer("/data/id"));
    let a = patch(json!({ "data": { "type": "users", "attributes": {} } })).await;
    assert_error(&a, 400, pointer("/data/id"));
    let a = patch(json!({ "data": { "type": "users", "id": 1, "attributes": {} } })).await;
    assert_error(&a, 400, pointer("/data/id"));
    let a = patch(json!({ "data": { "type": "users", "id": "1", "attributes": { "password": "New-pass-123" } } }),
    )
    .await;
    assert_error(&a, 400, pointer("/data/attributes/password"));
    let a = patch(json!({ "data": { "type": "users", "id": "1", "attributes": { "email": "bob@example.com" } } }),
    )
    .await;
    assert_error(&a, 422, pointer("/data/attributes/email"));

    // Unknown resources and routes answer in JSON too.
    assert_error(&api.get("/api/users/abc").await, 404, Value::Null);
    assert_error(&api.get("/api/users/999").await, 404, Value::Null);
    assert_error(&api.get("/api/nothing").await, 404, Value::Null);
    assert_error(
        &api.get("/api/users/1?sort=username").await,
        400,
        param("sort"),
    );
}

async fn create_update_delete_through_the_api(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);

    let a = api
        .call(
            Method::POST,
            "/api/users",
            Some(user_doc(json!({
                "username": "carol",
                "email": "carol@example.com",
                "password": "Carol-pass-1",
                "firstName": "Carol",
                "lastName": "Jones",
            }))),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["data"]["id"].as_str().unwrap().to_owned();
    assert!(
        a.location.ends_with(&format!("/api/users/{id}")),
        "{}",
        a.location
    );
    assert_eq!(a.body["data"]["attributes"]["enabled"], false);
    assert_eq!(a.body["data"]["attributes"]["firstName"], "Carol");
    // Created in the caller's organization, as a User, with the password given.
    let (_, page) = app.get_html(&format!("/admin/user/view/{id}")).await;
    let info = texts(&page, "dl.info dd");
    assert!(info.contains(&"Default".to_string()) && info.contains(&"User".to_string()));
    let (c, _) = new_client();
    let html = login_with(&c, &app.base, "carol", "Carol-pass-1")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Your login was unsuccessful") && !html.contains("disabled."),
        "right password, disabled: refused like a wrong one"
    );

    let path = format!("/api/users/{id}");
    let doc = |attrs: Value| json!({ "data": { "type": "users", "id": id, "attributes": attrs } });
    let a = api
        .call(
            Method::PATCH,
            &path,
            Some(doc(
                json!({ "firstName": "Caroline", "lastName": null, "enabled": true }),
            )),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let attrs = &a.body["data"]["attributes"];
    assert_eq!(attrs["firstName"], "Caroline");
    assert_eq!(attrs["lastName"], Value::Null);
    assert_eq!(attrs["enabled"], true);
    assert_eq!(
        attrs["email"], "carol@example.com",
        "unsent attributes stay"
    );
    let r = login_with(&c, &app.base, "carol", "Carol-pass-1").await;
    assert_eq!(
        location(&r),
        "/admin/user/profile/view",
        "enabled through the API"
    );
    let (_, page) = app
        .get_html(&path.replace("/api/users/", "/admin/user/view/"))
        .await;
    let history = texts(&page, "table.compact td");
    assert!(history.contains(&"Enabled".to_string()) && history.contains(&"admin".to_string()));

    let a = api
        .call(Method::PATCH, &path, Some(doc(json!({ "enabled": false }))))
        .await;
    assert_eq!(a.body["data"]["attributes"]["enabled"], false);
    assert_eq!(
        c.get(app.url("/admin/user/profile/view"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER,
        "disabling through the API ends the user's sessions, as in the UI"
    );

    let a = api.call(Method::DELETE, &path, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(a.body, Value::Null);
    assert_error(&api.get(&path).await, 404, Value::Null);
    assert_error(
        &api.call(Method::DELETE, &path, None).await,
        404,
        Value::Null,
    );
}

async fn a_user_sees_and_changes_only_themselves(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let carol = app.create_plain_user("carol", "Carol-pass-1");
    app.login_as_admin().await;
    let key = generate_key(&app, bob).await;
    let api = Api::new(&app, "bob", &key);

    let a = api.get_counted("/api/users?page[size]=100").await;
    assert_eq!(usernames(&a), vec!["bob"]);
    assert_eq!(a.body["meta"]["totalCount"], 1);
    assert_eq!(
        api.get(&format!("/api/users/{bob}")).await.status,
        StatusCode::OK
    );
    for id in [1, carol, 999] {
        let path = format!("/api/users/{id}");
        assert_error(&api.get(&path).await, 403, Value::Null);
        let doc = json!({ "data": { "type": "users", "id": id.to_string(), "attributes": { "firstName": "X" } } });
        assert_error(
            &api.call(Method::PATCH, &path, Some(doc)).await,
            403,
            Value::Null,
        );
        assert_error(
            &api.call(Method::DELETE, &path, None).await,
            403,
            Value::Null,
        );
    }
    let me = format!("/api/users/{bob}");
    assert_error(&api.call(Method::DELETE, &me, None).await, 403, Value::Null);
    let a = api
        .call(
            Method::POST,
            "/api/users",
            Some(user_doc(json!({ "username": "dave", "email": "dave@example.com", "password": "Dave-pass-1" }))),
        )
        .await;
    assert_error(&a, 403, Value::Null);

    let doc = |attrs: Value| json!({ "data": { "type": "users", "id": bob.to_string(), "attributes": attrs } });
    let a = api
        .call(
            Method::PATCH,
            &me,
            Some(doc(json!({ "firstName": "Robert" }))),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["data"]["attributes"]["firstName"], "Robert");
    let a = api
        .call(Method::PATCH, &me, Some(doc(json!({ "enabled": false }))))
        .await;
    assert_error(&a, 422, json!({ "pointer": "/data/attributes/enabled" }));
    assert_eq!(a.detail(), "You cannot disable your own account.");
    assert_eq!(
        api.get(&me).await.body["data"]["attributes"]["enabled"],
        true
    );
}

async fn lifecycle_rules_hold_in_the_api(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let carol = app.create_plain_user("carol", "Carol-pass-1");
    let dave = app.create_plain_user("dave", "Dave-pass-123");
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);

    // Nobody disables or deletes themselves, as in the UI.
    let a = api
        .call(
            Method::PATCH,
            "/api/users/1",
            Some(json!({ "data": { "type": "users", "id": "1", "attributes": { "enabled": false } } })),
        )
        .await;
    assert_error(&a, 422, json!({ "pointer": "/data/attributes/enabled" }));
    assert_eq!(a.detail(), "You cannot disable your own account.");
    let a = api.call(Method::DELETE, "/api/users/1", None).await;
    assert_error(&a, 409, Value::Null);
    assert_eq!(
        a.detail(),
        "The delete operation is forbidden. Reason: you cannot delete your own account."
    );

    // A user who owns an OAuth application is not deleted.
    app.sql(&format!(
        "INSERT INTO oauth_applications (owner_id, organization_id, name, client_id, secret_hash, created_at, updated_at) \
         VALUES ({carol}, 1, 'CRM sync', 'cid-1', 'x', 0, 0)"
    ))
    .await;
    let a = api
        .call(Method::DELETE, &format!("/api/users/{carol}"), None)
        .await;
    assert_error(&a, 409, Value::Null);
    assert!(
        a.detail().contains("(1 OAuth application)"),
        "{}",
        a.detail()
    );
    assert_eq!(
        api.get(&format!("/api/users/{carol}")).await.status,
        StatusCode::OK
    );

    // A member of another organization does not exist for this caller.
    app.sql("INSERT INTO organizations (name, name_key, enabled, created_at, updated_at) VALUES ('Other', 'other', TRUE, 0, 0)").await;
    app.sql(&format!(
        "UPDATE user_organizations SET organization_id = 2 WHERE user_id = {dave}"
    ))
    .await;
    let path = format!("/api/users/{dave}");
    assert_error(&api.get(&path).await, 404, Value::Null);
    let doc = json!({ "data": { "type": "users", "id": dave.to_string(), "attributes": { "enabled": false } } });
    assert_error(
        &api.call(Method::PATCH, &path, Some(doc)).await,
        404,
        Value::Null,
    );
    assert_error(
        &api.call(Method::DELETE, &path, None).await,
        404,
        Value::Null,
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {dave} AND enabled = TRUE"
        ))
        .await,
        1
    );
}

async fn every_documented_route_exists(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let r = app.get("/api/doc.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let url = app.url(&path.replace("{id}", "1"));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = reqwest::Client::new()
                .request(m, &url)
                .send()
                .await
                .unwrap();
            assert!(
                !matches!(
                    r.status(),
                    StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
                ),
                "{method} {path}: {}",
                r.status()
            );
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            checked += 1;
        }
    }
    assert_eq!(checked, 5);

    // The page for people lists the same endpoints and a ready-to-paste example.
    let (status, html) = app.get_html("/api/doc").await;
    assert_eq!(status, StatusCode::OK);
    let rows = texts(&html, "table.datagrid tbody tr");
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().any(|r| r.starts_with("PATCH /api/users/{id}")));
    let example = texts(&html, "pre code").join("\n");
    assert!(example.contains("openssl sha1 -binary"));
    assert!(
        example.contains("curl -sS -g "),
        "-g: curl must not glob the brackets of page[size]"
    );
    assert!(example.contains("X-WSSE: UsernameToken Username="));
    assert!(texts(&html, "a").contains(&"OpenAPI 3 (doc.json)".to_string()));
}

/// Keys are per organization: each works in its own organization, whichever one the
/// user last worked in through the web, and the API acts in the key's organization.
async fn one_key_per_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    app.post("/admin/organization", &[("name", "Acme")]).await;
    // The administrator joins Acme too.
    let (_, form) = app.get_html("/admin/user/update/1").await;
    let r = app
        .post_form(
            "/admin/user/update/1",
            &form,
            &[
                ("username", "admin"),
                ("email", "admin@example.com"),
                ("enabled", "1"),
                ("roles", "1"),
                ("roles", "2"),
                ("organizations", "1"),
                ("organizations", "2"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Acme is first by name, so the new session works there; switch to Default for a key.
    app.post("/admin/organization/switch", &[("organization", "1")])
        .await;
    let default_key = generate_key(&app, 1).await;
    app.post("/admin/organization/switch", &[("organization", "2")])
        .await;
    let (_, html) = app.get_html("/admin/user/view/1").await;
    assert_eq!(key_on_page(&html), None, "no key in Acme yet");
    let acme_key = generate_key(&app, 1).await;
    assert_ne!(default_key, acme_key);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM api_keys WHERE user_id = 1")
            .await,
        2
    );
    // Both keys work whatever the web session chose last.
    for key in [&default_key, &acme_key] {
        let api = Api::new(&app, "admin", key);
        assert_eq!(api.get("/api/users").await.status, StatusCode::OK);
    }
}
