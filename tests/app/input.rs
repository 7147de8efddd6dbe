//! Bad bytes on every route of the router (`web::ROUTES`), in every field any page's form
//! has and every API parameter: a NUL byte, a line break, a broken encoding, an over-long
//! value. None is answered with a 5xx; where the issue found 500s, the answer is a 400 that
//! names the field (a JSON:API error with its source, an RFC 6749 `invalid_request`).
//! OWASP ASVS 4 V5.1.3 (input validated against an allow-list where it is read) and V5.1.4.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::{Backend, TestApp, csrf_from, location};
use crate::oauth::{access_token, add_app, spawn_oauth};

both_backends!(
    bad_bytes_never_reach_the_store_on_any_route,
    a_saved_view_with_a_line_break_or_nul_is_refused,
    a_form_over_the_limit_is_413,
);

/// (name in the report, raw percent-encoded value).
const BAD: [(&str, &str); 4] = [
    ("NUL", "a%00b"),
    ("CR/LF", "a%0D%0ASet-Cookie:%20x=1"),
    ("broken UTF-8", "%E0%A4"),
    ("broken escape", "50%zz"),
];

/// Every field name the pages' forms have, found by reading them (so a field added to a
/// form is covered), and the API's parameters.
async fn field_names(app: &TestApp, user: i64) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = [
        "filter[username]",
        "filter[email]",
        "filter[enabled]",
        "sort",
        "fields[users]",
        "page[number]",
        "page[size]",
        "grant_type",
        "client_id",
        "client_secret",
        "q",
        "ids",
        "all_matching",
        "next",
        "return",
        "view_query",
        "oauth_name",
        "oauth_org",
        "oauth_status",
        "saved",
        "suggest",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let pages = [
        "/admin/user".to_string(),
        "/admin/user/create".into(),
        format!("/admin/user/update/{user}"),
        format!("/admin/user/view/{user}"),
        format!("/admin/user/change-password/{user}"),
        "/admin/user/profile/view".into(),
        "/admin/user/profile/change-password".into(),
        "/admin/user/fields".into(),
        "/admin/organization".into(),
        "/admin/oauth-applications".into(),
        format!("/admin/user/{user}/oauth-app/create"),
    ];
    for p in pages {
        let (status, html) = app.get_html(&p).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        let doc = scraper::Html::parse_document(&html);
        let sel = scraper::Selector::parse("input[name], select[name], textarea[name]").unwrap();
        for e in doc.select(&sel) {
            if let Some(n) = e.value().attr("name") {
                names.insert(n.to_owned());
            }
        }
    }
    names.remove("_csrf");
    names
}

fn encoded_pairs(names: &BTreeSet<String>, raw_value: &str) -> String {
    names
        .iter()
        .map(|n| {
            let name: String = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
            format!("{name}={raw_value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn bad_bytes_never_reach_the_store_on_any_route(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    app.login_as_admin().await;
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let names = field_names(&app, bob).await;
    let (client_id, secret) = add_app(&app, bob, "Fuzz", &[]).await;
    let token = access_token(&app, &client_id, &secret).await;
    let csrf = app.csrf().await;
    named_refusals(&app, &token).await;

    let mut routes: Vec<&(&str, &str)> = gatehouse::web::ROUTES.iter().collect();
    // Signing out last: until then every request is the administrator's.
    routes.sort_by_key(|(_, p)| *p == "/admin/user/logout");
    for (method, path) in routes {
        let url_path = path
            .replace("{id}", &bob.to_string())
            .replace("{action}", "disable")
            .replace("{token}", "ghr_x");
        for (what, value) in BAD {
            let query = encoded_pairs(&names, value);
            let body = format!("_csrf={csrf}&{}", encoded_pairs(&names, value));
            let url = format!("{}{url_path}?{query}", app.base);
            let mut req = match *method {
                "get" => app.client.get(&url),
                "post" => app.client.post(&url),
                "patch" => app.client.patch(&url),
                "delete" => app.client.delete(&url),
                other => panic!("a route with method {other}: add it here"),
            };
            if path.starts_with("/api/") {
                req = req.bearer_auth(&token);
            }
            if *method != "get" {
                req = req
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
            }
            let r = req.send().await.expect("request");
            let status = r.status();
            assert!(
                !status.is_server_error(),
                "{what}: {method} {url_path} answered {status}: {}",
                r.text().await.unwrap_or_default()
            );
        }
    }
}

/// Where the issue found 500s, the answer is a 400 that names what was wrong.
async fn named_refusals(app: &TestApp, token: &str) {
    let (anon, _) = app.new_browser();
    let login_page = anon
        .get(app.url("/admin/user/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&login_page).unwrap();
    for (path, field) in [
        ("/admin/user/login", "username"),
        ("/admin/user/reset-request", "username"),
    ] {
        let r = anon
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}&{field}=a%00b&password=x"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("&#34;{field}&#34;")) || html.contains(&format!("\"{field}\"")),
            "{html}"
        );
    }
    let r = reqwest::Client::new()
        .post(app.url("/oauth2-token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=a%00b&client_secret=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // JSON:API: the parameter, or the pointer into the document.
    let r = reqwest::Client::new()
        .get(app.url("/api/users?filter%5Busername%5D=a%00b"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["errors"][0]["source"]["parameter"], "filter[username]");
    let r = reqwest::Client::new()
        .post(app.url("/api/users"))
        .bearer_auth(token)
        .header("content-type", "application/vnd.api+json")
        .body(
            json!({"data": {"type": "users", "attributes": {"username": "a\u{0}b", "email": "x@example.com"}}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(
        doc["errors"][0]["source"]["pointer"],
        "/data/attributes/username"
    );
    // The grid and the applications' filters.
    for path in [
        "/admin/user?username=a%00b",
        "/admin/user?email=a%0D%0Ab",
        "/admin/oauth-applications?name=a%00b",
    ] {
        let (status, html) = app.get_html(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(html.contains("control character"), "{path}: {html}");
    }
}

async fn a_saved_view_with_a_line_break_or_nul_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    for query in [
        "username=a%0D%0ASet-Cookie:%20x=1",
        "email=a%00b",
        "view=all%0D%0A",
    ] {
        let r = app
            .post("/admin/user/views", &[("name", "Bad"), ("query", query)])
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            r.text().await.unwrap().contains("control character"),
            "{query}: the reason is shown"
        );
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM grid_views").await,
            0,
            "{query}: nothing stored"
        );
    }
    // A clean one is stored, and its page opens.
    let r = app
        .post(
            "/admin/user/views",
            &[("name", "Fine"), ("query", "username=adm")],
        )
        .await;
    let to = location(&r);
    assert_eq!(app.get(&to).await.status(), StatusCode::OK);
}

async fn a_form_over_the_limit_is_413(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let csrf = app.csrf().await;
    let body = format!("_csrf={csrf}&name={}", "x".repeat(2 * 1024 * 1024));
    let r = app
        .client
        .post(app.url("/admin/user/views"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM grid_views").await, 0);
}
