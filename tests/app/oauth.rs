//! OAuth applications: managing them in the pages, the client credentials token endpoint
//! (driven by a real OAuth 2.0 client library), bearer tokens at the API, missing keys,
//! and `gatehouse oauth generate-keys`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::{BasicClient, BasicTokenType};
use oauth2::{AuthType, ClientId, ClientSecret, TokenResponse, TokenUrl};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::{Backend, TestApp, location, texts};

both_backends!(
    token_flow_with_an_oauth2_client,
    json_body_basic_auth_and_request_errors,
    refused_clients_get_invalid_client,
    bearer_tokens_are_checked,
    missing_keys_then_added_while_running,
);

pub const KEYS_MISSING: &str = "OAuth authorization is not available as encryption keys configuration was not complete. Please contact your administrator.";
pub(crate) const PUBLIC_URL: &str = "http://127.0.0.1:8080/";

/// One key pair per test process (RSA generation is the slow part), copied into each
/// test's own directory so that a test may remove or replace its keys. The static's temp
/// directory is never dropped: one small directory per test run.
pub(crate) fn master_keys() -> (&'static Path, &'static Path) {
    static KEYS: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    let (_, private, public) = KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let private = dir.path().join("oauth_private.key");
        let public = dir.path().join("oauth_public.key");
        gatehouse::security::oauth_keys::generate_files(&private, &public, false)
            .expect("generate keys");
        (dir, private, public)
    });
    (private, public)
}

pub fn copy_keys_into(dir: &Path) -> (PathBuf, PathBuf) {
    let (private, public) = master_keys();
    let p = dir.join("oauth_private.key");
    let q = dir.join("oauth_public.key");
    std::fs::copy(private, &p).expect("copy private key");
    std::fs::copy(public, &q).expect("copy public key");
    (p, q)
}

/// A running app whose key paths point into `keys` (empty when `with_keys` is false).
pub async fn spawn_oauth(
    backend: Backend,
    with_keys: bool,
) -> Option<(TestApp, tempfile::TempDir)> {
    let keys = tempfile::tempdir().expect("key dir");
    let (p, q) = if with_keys {
        copy_keys_into(keys.path())
    } else {
        (
            keys.path().join("oauth_private.key"),
            keys.path().join("oauth_public.key"),
        )
    };
    // Emails go to .eml files beside the keys, for the tests that read them.
    let mail = keys.path().join("mail");
    std::fs::create_dir(&mail).expect("mail dir");
    let app = TestApp::spawn_with(backend, |s| {
        s.oauth.private_key = p;
        s.oauth.public_key = q;
        s.mailer.dsn = format!("file://{}", mail.display());
    })
    .await?;
    Some((app, keys))
}

pub(crate) fn input_value(html: &str, id: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("#{id}")).ok()?;
    doc.select(&sel)
        .next()?
        .value()
        .attr("value")
        .map(str::to_owned)
}

/// Adds an application for `owner` through the Add Application form and reads the
/// one-time credentials from the page it redirects to.
pub async fn add_app(
    app: &TestApp,
    owner: i64,
    name: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let mut fields = vec![("name", name), ("active", "1")];
    fields.extend_from_slice(extra);
    let r = app
        .post(&format!("/admin/user/{owner}/oauth-app/create"), &fields)
        .await;
    let html = one_time_credentials(app, r).await;
    (
        input_value(&html, "cred-client-id").expect("client id shown"),
        input_value(&html, "cred-client-secret").expect("secret shown"),
    )
}

/// Follows the redirect a Create or Regenerate answers with (post/redirect/get) to the
/// page that shows the secret, once: the page is never cached, and a second look (a
/// reload) shows no secret.
pub(crate) async fn one_time_credentials(app: &TestApp, posted: reqwest::Response) -> String {
    assert_eq!(
        posted.status(),
        StatusCode::SEE_OTHER,
        "redirect, not a page"
    );
    let to = location(&posted);
    assert!(
        to.starts_with("/admin/oauth-applications/") && to.ends_with("/credentials"),
        "{to}"
    );
    let r = app.get(&to).await;
    assert_eq!(r.status(), StatusCode::OK, "credentials page");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let (again, reloaded) = app.get_html(&to).await;
    assert_eq!(again, StatusCode::GONE, "shown once");
    assert!(input_value(&reloaded, "cred-client-secret").is_none());
    assert!(reloaded.contains("was shown once"));
    html
}

pub(crate) async fn app_id(app: &TestApp, client_id: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id FROM oauth_applications WHERE client_id = '{client_id}'"
    ))
    .await
}

/// A token request with the credentials in a form body.
pub async fn token_with(app: &TestApp, id: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/oauth2-token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .expect("token request")
}

pub async fn access_token(app: &TestApp, id: &str, secret: &str) -> String {
    let r = token_with(app, id, secret).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

pub(crate) async fn error_of(r: reqwest::Response) -> (StatusCode, Option<String>, String) {
    let status = r.status();
    let www = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = r.json().await.expect("JSON error body");
    (status, www, body["error"].as_str().unwrap_or("").to_owned())
}

/// `GET /api/users` with an access token; the usernames listed.
pub(crate) async fn api_usernames(app: &TestApp, token: &str) -> Vec<String> {
    let r = api_users(app, token).await;
    let status = r.status();
    let doc: Value = r.json().await.unwrap();
    assert_eq!(
        status,
        StatusCode::OK,
        "the API accepts the access token: {doc}"
    );
    doc["data"]
        .as_array()
        .expect("JSON:API data")
        .iter()
        .map(|u| u["attributes"]["username"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn api_users(app: &TestApp, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url("/api/users?sort=username"))
        .header("accept", "application/vnd.api+json")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A token that was sent but is refused: 401 with RFC 6750's `invalid_token`, at the
/// JSON:API (which also offers WSSE) and at whoami.
pub(crate) async fn refused(app: &TestApp, token: &str) {
    let r = whoami(app, token).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer realm=\"Gatehouse\", error=\"invalid_token\""
    );
    let r = api_users(app, token).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenges = challenges(&r);
    assert!(
        challenges
            .iter()
            .any(|c| c == "Bearer realm=\"Gatehouse\", error=\"invalid_token\""),
        "{challenges:?}"
    );
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["errors"][0]["source"]["header"], "Authorization");
    assert!(
        doc["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("access token"),
        "{doc}"
    );
}

/// Every `WWW-Authenticate` value of a response (RFC 7235 allows several).
pub(crate) fn challenges(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn whoami(app: &TestApp, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url("/api/oauth/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub(crate) fn decode_independently(token: &str, client_id: &str) -> Value {
    let (_, public) = master_keys();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&std::fs::read(public).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[client_id]);
    v.set_issuer(&[PUBLIC_URL]);
    v.set_required_spec_claims(&["exp", "nbf", "iat", "aud", "iss", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .expect("token verifies with the public key")
        .claims
}

pub(crate) async fn token_flow_with_an_oauth2_client(backend: Backend) {
    let Some((app, key_dir)) = spawn_oauth(backend, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;

    let r = app
        .post(
            &format!("/admin/user/{bob}/oauth-app/create"),
            &[("name", "CRM sync"), ("active", "1")],
        )
        .await;
    let html = one_time_credentials(&app, r).await;
    // A reload of the page after Create made nothing new.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM oauth_applications").await,
        1
    );
    assert_eq!(
        texts(&html, "#oauth-credentials label"),
        vec!["Client ID", "Client Secret"]
    );
    assert!(html.contains(r#"aria-label="Copy Client ID""#));
    assert!(html.contains(r#"aria-label="Copy Client Secret""#));
    assert!(html.contains("shown only this once"));
    let id = input_value(&html, "cred-client-id").unwrap();
    let secret = input_value(&html, "cred-client-secret").unwrap();
    assert_eq!(id.len(), 32);
    assert!(
        secret.starts_with("ghcs_") && secret.len() >= 5 + 43,
        "{secret}"
    );

    // A standard OAuth 2.0 client, HTTP Basic (its default) and credentials in the body.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_token_uri(TokenUrl::new(app.url("/oauth2-token")).unwrap());
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let token = client
            .clone()
            .set_auth_type(auth)
            .exchange_client_credentials()
            .request_async(&http)
            .await
            .expect("client credentials grant");
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);
        assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
        assert!(token.refresh_token().is_none());
        let jwt = token.access_token().secret();

        let claims = decode_independently(jwt, &id);
        assert_eq!(claims["sub"], json!(id));
        assert_eq!(claims["aud"], json!(id));
        assert_eq!(claims["uid"], json!(bob));
        assert_eq!(claims["org"], json!(1));
        assert_eq!(claims["scopes"], json!([]));
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["nbf"].as_i64(), Some(iat));
        assert_eq!(claims["exp"].as_i64(), Some(iat + 3600));
        assert_eq!(claims["jti"].as_str().unwrap().len(), 64);

        let r = whoami(&app, jwt).await;
        assert_eq!(r.status(), StatusCode::OK);
        let me: Value = r.json().await.unwrap();
        assert_eq!(
            me,
            json!({"user_id": bob, "username": "bob", "organization_id": 1, "client_id": id})
        );
        // The JSON:API takes the token and acts as bob, who may see only himself.
        assert_eq!(api_usernames(&app, jwt).await, ["bob"]);
    }

    // The raw answer: exactly Oro's fields, not cacheable.
    let r = token_with(&app, &id, &secret).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = r.json().await.unwrap();
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "expires_in", "token_type"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);

    // Last used is recorded; creation is audited.
    let (_, list) = app.get_html("/admin/oauth-applications").await;
    let row = texts(&list, "table.oauth-grid tbody tr");
    assert_eq!(row.len(), 1);
    assert!(!row[0].contains("Never"), "{row:?}");
    assert!(row[0].contains("Client Credentials") && row[0].contains("bob"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'oauth_app.created' AND target_type = 'oauth_application'"
        )
        .await,
        1
    );

    // An administrator's application sees what the administrator sees.
    let (admin_id, admin_secret) = add_app(&app, 1, "Admin sync", &[]).await;
    let admin_token = access_token(&app, &admin_id, &admin_secret).await;
    assert_eq!(api_usernames(&app, &admin_token).await, ["admin", "bob"]);

    // The owner is told, by email, of each application added to their account.
    let mails = crate::mailbox::wait_for_files(&key_dir.path().join("mail"), 2).await;
    let to_bob: Vec<_> = mails.iter().filter(|m| m.to.contains("bob@")).collect();
    assert_eq!(to_bob.len(), 1, "{mails:?}");
    assert_eq!(to_bob[0].subject, "OAuth application added to your account");
    assert!(
        to_bob[0].text.contains("\"CRM sync\""),
        "{}",
        to_bob[0].text
    );
    assert!(
        to_bob[0]
            .text
            .contains("If you did not expect this, please contact an administrator."),
    );
    assert!(
        to_bob[0]
            .html
            .as_deref()
            .unwrap()
            .contains("<strong>CRM sync</strong>")
    );
}

pub(crate) async fn json_body_basic_auth_and_request_errors(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let (id, secret) = add_app(&app, bob, "CRM sync", &[]).await;
    let c = reqwest::Client::new();
    let url = app.url("/oauth2-token");

    let r = c
        .post(&url)
        .json(
            &json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "JSON body");
    let r = c
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "HTTP Basic");

    let bad = |form: Vec<(&'static str, String)>| c.post(&url).form(&form).send();
    let cc = || ("grant_type", "client_credentials".to_string());
    let cid = || ("client_id", id.clone());
    let csec = || ("client_secret", secret.clone());

    // Two authentication methods at once (RFC 6749 section 2.3).
    let r = c
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[cc(), cid(), csec()])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.2, "invalid_request");
    let (s, _, e) = error_of(bad(vec![cid(), csec()]).await.unwrap()).await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "no grant_type"
    );
    let (s, _, e) = error_of(
        bad(vec![("grant_type", "password".into()), cid(), csec()])
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::BAD_REQUEST, "unsupported_grant_type")
    );
    let (s, _, e) = error_of(bad(vec![cc(), cc(), cid(), csec()]).await.unwrap()).await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "repeated"
    );
    let (s, www, e) = error_of(bad(vec![cc()]).await.unwrap()).await;
    assert_eq!(
        (s, www, e.as_str()),
        (StatusCode::UNAUTHORIZED, None, "invalid_client"),
        "no credentials at all"
    );
    let (s, _, e) = error_of(bad(vec![cc(), cid()]).await.unwrap()).await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client"),
        "no secret"
    );
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.2, "invalid_request");
    let r = c
        .post(&url)
        .bearer_auth("abc")
        .form(&[cc()])
        .send()
        .await
        .unwrap();
    let (s, www, e) = error_of(r).await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert_eq!(www.as_deref(), Some("Basic realm=\"Gatehouse\""));
    // No CSRF token or session is needed, and none is set.
    let r = token_with(&app, &id, &secret).await;
    assert!(r.headers().get("set-cookie").is_none());
}

pub(crate) async fn refused_clients_get_invalid_client(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let (id, secret) = add_app(&app, bob, "CRM sync", &[]).await;
    let app_id = app_id(&app, &id).await;
    let refused = |r: reqwest::Response| async move {
        let (s, _, e) = error_of(r).await;
        assert_eq!(
            (s, e.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_client")
        );
    };

    // Wrong secret: with Basic, the challenge names the scheme; in the body, no challenge.
    let r = reqwest::Client::new()
        .post(app.url("/oauth2-token"))
        .basic_auth(&id, Some("ghcs_wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (s, www, e) = error_of(r).await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert_eq!(www.as_deref(), Some("Basic realm=\"Gatehouse\""));
    let (_, www, _) = error_of(token_with(&app, &id, "ghcs_wrong").await).await;
    assert_eq!(www, None);
    refused(token_with(&app, "unknown-client", &secret).await).await;
    refused(token_with(&app, &id, "").await).await;

    // Inactive application.
    let r = app
        .post(
            &format!("/admin/oauth-applications/{app_id}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
    assert_eq!(app.flashes().await, vec!["Deactivated successfully"]);
    refused(token_with(&app, &id, &secret).await).await;
    app.post(&format!("/admin/oauth-applications/{app_id}/activate"), &[])
        .await;
    assert_eq!(app.flashes().await, vec!["Activated successfully"]);
    assert_eq!(
        token_with(&app, &id, &secret).await.status(),
        StatusCode::OK
    );

    // Disabled, locked, or in password reset owner.
    app.post(&format!("/admin/user/disable/{bob}"), &[]).await;
    refused(token_with(&app, &id, &secret).await).await;
    app.post(&format!("/admin/user/enable/{bob}"), &[]).await;
    assert_eq!(
        token_with(&app, &id, &secret).await.status(),
        StatusCode::OK
    );
    for status in ["locked", "password_reset"] {
        app.sql(&format!(
            "UPDATE users SET auth_status = '{status}' WHERE id = {bob}"
        ))
        .await;
        refused(token_with(&app, &id, &secret).await).await;
    }
    app.sql(&format!(
        "UPDATE users SET auth_status = 'active' WHERE id = {bob}"
    ))
    .await;
    assert_eq!(
        token_with(&app, &id, &secret).await.status(),
        StatusCode::OK
    );
}

pub(crate) async fn bearer_tokens_are_checked(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let (id, secret) = add_app(&app, bob, "CRM sync", &[]).await;
    let app_id = app_id(&app, &id).await;
    let token = access_token(&app, &id, &secret).await;
    assert_eq!(api_usernames(&app, &token).await, ["bob"]);

    let r = reqwest::get(app.url("/api/oauth/whoami")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer realm=\"Gatehouse\""
    );
    // No credentials at all: the API offers both schemes.
    let r = reqwest::get(app.url("/api/users")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenges = challenges(&r);
    assert!(
        challenges.iter().any(|c| c == "Bearer realm=\"Gatehouse\""),
        "{challenges:?}"
    );
    assert!(
        challenges.iter().any(|c| c.starts_with("WSSE ")),
        "{challenges:?}"
    );
    refused(&app, "not-a-token").await;
    // "Bearer" must be followed by exactly one token.
    refused(&app, "").await;
    refused(&app, "two tokens").await;

    // Tampered: claim to act as the administrator, keeping bob's signature.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["uid"] = json!(1);
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    refused(&app, &format!("{}.{forged_payload}.{}", parts[0], parts[2])).await;
    // `alg: none` is never accepted.
    let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    refused(&app, &format!("{none}.{}.", parts[1])).await;

    // A token stops working with its application or its owner.
    app.post(
        &format!("/admin/oauth-applications/{app_id}/deactivate"),
        &[],
    )
    .await;
    refused(&app, &token).await;
    app.post(&format!("/admin/oauth-applications/{app_id}/activate"), &[])
        .await;
    assert_eq!(api_usernames(&app, &token).await, ["bob"]);
    app.post(&format!("/admin/user/disable/{bob}"), &[]).await;
    refused(&app, &token).await;
    app.post(&format!("/admin/user/enable/{bob}"), &[]).await;
    assert_eq!(api_usernames(&app, &token).await, ["bob"]);

    // Expired, by the application's clock. The clock runs on while the test does, so move
    // it relative to the token's own `exp`: 30 s before it is still valid, at it is not.
    let exp = decode_independently(&token, &id)["exp"].as_i64().unwrap();
    app.state.clock.advance(exp - 30 - app.state.clock.now());
    assert_eq!(api_usernames(&app, &token).await, ["bob"]);
    app.state.clock.advance(exp - app.state.clock.now());
    refused(&app, &token).await;
}

pub(crate) async fn missing_keys_then_added_while_running(backend: Backend) {
    let Some((app, keys)) = spawn_oauth(backend, false).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let page = format!("/admin/user/view/{bob}");
    let (status, html) = app.get_html(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&html, ".oauth-keys-missing"), vec![KEYS_MISSING]);
    assert!(!html.contains("Add Application"));
    let (_, list) = app.get_html("/admin/oauth-applications").await;
    assert_eq!(texts(&list, ".oauth-keys-missing"), vec![KEYS_MISSING]);

    let r = token_with(&app, "any", "thing").await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    let (s, _, e) = error_of(r).await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
    );
    let (s, html) = app
        .get_html(&format!("/admin/user/{bob}/oauth-app/create"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains(KEYS_MISSING));
    let r = app
        .post(
            &format!("/admin/user/{bob}/oauth-app/create"),
            &[("name", "CRM sync"), ("active", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM oauth_applications").await,
        0
    );

    // Keys added while the server runs are used without a restart.
    copy_keys_into(keys.path());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, html) = app.get_html(&page).await;
        if html.contains("Add Application") {
            assert!(texts(&html, ".oauth-keys-missing").is_empty());
            break;
        }
        assert!(Instant::now() < deadline, "keys were not picked up");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (id, secret) = add_app(&app, bob, "CRM sync", &[]).await;
    access_token(&app, &id, &secret).await;
}
