//! The organization boundary, walked over every route of the router (`web::ROUTES`): an
//! administrator of another organization and a plain user are refused everything that
//! reaches into an organization that is not theirs, and nothing changes in the store.
//! OWASP ASVS 4 V4.1.1-V4.1.3 (access control enforced on the server, least privilege) and
//! V4.2.1 (no insecure direct object references).

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::common::{Backend, TestApp, csrf_from, location, login_with, new_client, texts};
use crate::oauth::{access_token, add_app, spawn_oauth};

both_backends!(
    another_organizations_administrator_and_a_plain_user_are_refused_everywhere,
    a_global_organization_gives_every_organization,
);

/// A signed-in browser of its own.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub async fn login(app: &TestApp, username: &str, password: &str) -> Self {
        let (client, _) = new_client();
        let r = login_with(&client, &app.base, username, password).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{username} signs in");
        Self {
            client,
            base: app.base.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    pub async fn csrf(&self) -> String {
        let html = self
            .get("/admin/user/profile/view")
            .await
            .text()
            .await
            .unwrap();
        csrf_from(&html).expect("a signed-in page carries the CSRF token")
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut form = vec![("_csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .expect("POST")
    }
}

/// Everything in the store that belongs to organization Default and its members, as text:
/// whatever a refused request did, this must not change. The attackers' own rows (their
/// session, sign-in counters, audit of their own sign-in) are left out.
async fn default_organization(app: &TestApp, attackers: &[i64]) -> String {
    let not = attackers
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let queries = [
        format!(
            "SELECT id || '|' || username || '|' || email || '|' || COALESCE(first_name, '') || '|' || \
             CASE WHEN enabled THEN 1 ELSE 0 END || '|' || auth_status || '|' || failed_login_count || '|' || \
             password_hash || '|' || session_epoch || '|' || updated_at FROM users WHERE id NOT IN ({not}) ORDER BY id"
        ),
        format!(
            "SELECT user_id || ':' || role_id FROM user_roles WHERE user_id NOT IN ({not}) ORDER BY 1"
        ),
        format!(
            "SELECT user_id || ':' || organization_id FROM user_organizations WHERE user_id NOT IN ({not}) ORDER BY 1"
        ),
        "SELECT id || '|' || name || '|' || CASE WHEN enabled THEN 1 ELSE 0 END || '|' || \
         CASE WHEN is_global THEN 1 ELSE 0 END FROM organizations ORDER BY id"
            .into(),
        "SELECT id || '|' || owner_id || '|' || organization_id || '|' || name || '|' || secret_hash || '|' || \
         CASE WHEN active THEN 1 ELSE 0 END FROM oauth_applications ORDER BY id"
            .into(),
        "SELECT user_id || '|' || organization_id || '|' || created_at FROM api_keys ORDER BY 1".into(),
        format!(
            "SELECT id || '|' || name || '|' || query FROM grid_views WHERE owner_id NOT IN ({not}) ORDER BY id"
        ),
        format!(
            "SELECT id || '|' || status FROM export_jobs WHERE requested_by NOT IN ({not}) ORDER BY id"
        ),
        "SELECT id || '|' || user_id FROM password_reset_tokens ORDER BY id".into(),
        // Email to the attackers themselves (their own export finishing) is theirs.
        "SELECT id || '|' || recipient || '|' || subject FROM mail_outbox \
         WHERE recipient NOT IN ('otheradmin@example.com', 'dora@example.com') ORDER BY id"
            .into(),
        "SELECT name || '=' || value FROM app_settings ORDER BY name".into(),
        format!(
            "SELECT id || '|' || action FROM audit_log WHERE COALESCE(actor_id, 0) NOT IN ({not}) \
             AND action NOT IN ('login.failed') ORDER BY id"
        ),
    ];
    let mut out = String::new();
    for q in queries {
        out.push_str(&app.texts(&q).await.join("\n"));
        out.push_str("\n--\n");
    }
    out
}

/// A form body that every handler finds what it reads in: names of users, organizations
/// and applications, roles, organizations, passwords, a selection, a confirmation.
fn everything(victim: i64, victim_org: i64) -> Vec<(String, String)> {
    let v = victim.to_string();
    let o = victim_org.to_string();
    [
        ("username", "pwned"),
        ("email", "pwned@example.com"),
        ("roles", "1"),
        ("organizations", &o),
        ("organization", &o),
        ("enabled", "1"),
        ("name", "Pwned"),
        ("active", "1"),
        ("global", "1"),
        ("password", "Pwned-pass-123"),
        ("password_repeat", "Pwned-pass-123"),
        ("current_password", "Other-pass-123"),
        ("ids", &v),
        ("confirm", "1"),
        ("export", "password_hash"),
        ("query", "view=all"),
        ("view_query", "view=all"),
        ("return", "/admin/user"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

struct Targets {
    user: i64,
    organization: i64,
    application: i64,
    export: i64,
    view: i64,
}

/// The path with its parameters pointing into organization Default; None for routes that
/// are no one's (a reset token, the token endpoint, static files).
fn aimed(path: &str, t: &Targets) -> Option<(String, bool)> {
    let id = if path.starts_with("/admin/organization/") {
        t.organization
    } else if path.starts_with("/admin/oauth-applications/") {
        t.application
    } else if path.starts_with("/admin/user/export/") {
        t.export
    } else if path.starts_with("/admin/user/views/") {
        t.view
    } else {
        t.user
    };
    if path.contains("{token}") {
        return Some((path.replace("{token}", "ghr_not-a-token"), false));
    }
    let aimed_at_victim = path.contains("{id}");
    Some((
        path.replace("{id}", &id.to_string())
            .replace("{action}", "disable"),
        aimed_at_victim,
    ))
}

async fn walk_as(app: &TestApp, who: &Browser, name: &str, t: &Targets, attackers: &[i64]) {
    let body = everything(t.user, t.organization);
    for (method, path) in gatehouse::web::ROUTES {
        // Signing out would end the walk; the API and the token endpoint do not read the
        // session (their boundary has its own checks, below).
        if *path == "/admin/user/logout" || path.starts_with("/api/") || *path == "/oauth2-token" {
            continue;
        }
        let Some((url, aimed_at_victim)) = aimed(path, t) else {
            continue;
        };
        let before = default_organization(app, attackers).await;
        let r = match *method {
            "get" => who.get(&url).await,
            _ => {
                let fields: Vec<(&str, &str)> =
                    body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                who.post(&url, &fields).await
            }
        };
        let status = r.status();
        assert!(
            !status.is_server_error(),
            "{name}: {method} {url} answered {status}"
        );
        if aimed_at_victim {
            assert!(
                matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{name}: {method} {url} must be refused, got {status} {}",
                location(&r)
            );
        }
        assert_eq!(
            default_organization(app, attackers).await,
            before,
            "{name}: {method} {url} ({status}) changed organization Default"
        );
    }
}

async fn another_organizations_administrator_and_a_plain_user_are_refused_everywhere(
    backend: Backend,
) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    app.login_as_admin().await;
    app.post("/admin/organization", &[("name", "Other")]).await;
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let out = app.create_user(&[
        "--username",
        "otheradmin",
        "--email",
        "otheradmin@example.com",
        "--password",
        "Other-pass-123",
        "--admin",
        "--organization",
        "Other",
    ]);
    assert!(out.status.success());
    let otheradmin = app
        .scalar("SELECT id FROM users WHERE username_key = 'otheradmin'")
        .await;
    let out = app.create_user(&[
        "--username",
        "olga",
        "--email",
        "olga@example.com",
        "--password",
        "Olga-pass-123",
        "--organization",
        "Other",
    ]);
    assert!(out.status.success());
    let dora = app.create_plain_user("dora", "Dora-pass-123");
    // Default's records: an application, a key, a saved view and a finished export.
    let (bob_client, _) = add_app(&app, bob, "Bob's CRM", &[]).await;
    let application = app
        .scalar(&format!(
            "SELECT id FROM oauth_applications WHERE client_id = '{bob_client}'"
        ))
        .await;
    app.post(&format!("/admin/user/apigen/{bob}"), &[]).await;
    app.post(
        "/admin/user/views",
        &[("name", "Mine"), ("query", "view=active")],
    )
    .await;
    let view = app.scalar("SELECT MAX(id) FROM grid_views").await;
    app.post("/admin/user/export", &[]).await;
    crate::mailbox::eventually("the export to finish", 30, || async {
        (app.scalar("SELECT COUNT(*) FROM export_jobs WHERE status = 'done'")
            .await
            == 1)
            .then_some(())
    })
    .await;
    let export = app.scalar("SELECT MAX(id) FROM export_jobs").await;
    let targets = Targets {
        user: bob,
        organization: 1,
        application,
        export,
        view,
    };

    let attacker = Browser::login(&app, "otheradmin", "Other-pass-123").await;
    // What the issue found, one by one, before the walk over every route.
    for (path, fields) in [
        ("/admin/organization/1/disable".to_string(), vec![]),
        (
            format!("/admin/user/update/{bob}"),
            vec![
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("roles", "1"),
                ("organizations", "1"),
                ("enabled", "1"),
            ],
        ),
        (
            format!("/admin/user/change-password/{bob}"),
            vec![("password", "Pwned-pass-123")],
        ),
        (format!("/admin/user/reset-password/{bob}"), vec![]),
        (
            format!("/admin/oauth-applications/{application}/regenerate"),
            vec![],
        ),
        (
            format!("/admin/user/{bob}/oauth-app/create"),
            vec![("name", "Backdoor"), ("active", "1")],
        ),
    ] {
        let r = attacker.post(&path, &fields).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    let r = attacker
        .get(&format!("/admin/user/export/{export}/download"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    walk_as(&app, &attacker, "otheradmin", &targets, &[otheradmin]).await;
    let plain = Browser::login(&app, "dora", "Dora-pass-123").await;
    walk_as(&app, &plain, "dora", &targets, &[dora]).await;

    // What the other organization's administrator does see: only their organization.
    let grid = attacker
        .get("/admin/user?size=100")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&grid, "table.datagrid:not(.compact) tbody td:nth-child(2)"),
        vec!["olga", "otheradmin"]
    );
    let all = attacker
        .post(
            "/admin/user/mass/disable",
            &[("all_matching", "1"), ("q", "view=all"), ("confirm", "1")],
        )
        .await;
    assert_eq!(all.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE enabled = FALSE")
            .await,
        1,
        "\"all matching\" reached olga only"
    );
    let orgs = attacker
        .get("/admin/organization")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&orgs, "table.organizations tbody input[name=name]").len(),
        1
    );
    assert!(!orgs.contains("value=\"Default\""));
    let apps = attacker
        .get("/admin/oauth-applications")
        .await
        .text()
        .await
        .unwrap();
    assert!(!apps.contains("Bob&#39;s CRM") && !apps.contains("Bob's CRM"));
    // Their export holds their organization's users only.
    attacker.post("/admin/user/export", &[]).await;
    crate::mailbox::eventually("the other export", 30, || async {
        let n = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM export_jobs WHERE requested_by = {otheradmin} AND status = 'done'"
            ))
            .await;
        (n == 1).then_some(())
    })
    .await;
    let id = app
        .scalar(&format!(
            "SELECT id FROM export_jobs WHERE requested_by = {otheradmin}"
        ))
        .await;
    let csv = attacker
        .get(&format!("/admin/user/export/{id}/download"))
        .await
        .text()
        .await
        .unwrap();
    let names: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    assert_eq!(names, vec!["olga", "otheradmin"], "{csv}");

    // The API shares the rules: a token of the other organization's administrator reaches
    // no member of Default.
    let (other_client, other_secret) = add_app(&app, otheradmin, "Other's script", &[]).await;
    let token = access_token(&app, &other_client, &other_secret).await;
    let api = reqwest::Client::new();
    for (method, body) in [
        (reqwest::Method::GET, None),
        (
            reqwest::Method::PATCH,
            Some(
                serde_json::json!({"data": {"type": "users", "id": bob.to_string(), "attributes": {"firstName": "Pwned"}}}),
            ),
        ),
        (reqwest::Method::DELETE, None),
    ] {
        let mut req = api
            .request(method.clone(), app.url(&format!("/api/users/{bob}")))
            .bearer_auth(&token)
            .header("accept", "application/vnd.api+json");
        if let Some(b) = body {
            req = req
                .header("content-type", "application/vnd.api+json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NOT_FOUND,
            "{method} /api/users/{bob}"
        );
    }
    let r = api
        .get(app.url("/api/users?page[size]=100"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let doc: Value = r.json().await.unwrap();
    let listed: Vec<&str> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["attributes"]["username"].as_str().unwrap())
        .collect();
    assert!(
        !listed.contains(&"bob") && !listed.contains(&"admin"),
        "{listed:?}"
    );
}

/// An organization marked global gives its administrators every organization; taking it
/// away takes that reach away, and the last global organization keeps it.
async fn a_global_organization_gives_every_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    app.post("/admin/organization", &[("name", "Other")]).await;
    let out = app.create_user(&[
        "--username",
        "otheradmin",
        "--email",
        "otheradmin@example.com",
        "--password",
        "Other-pass-123",
        "--admin",
        "--organization",
        "Other",
    ]);
    assert!(out.status.success());
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let attacker = Browser::login(&app, "otheradmin", "Other-pass-123").await;
    assert_eq!(
        attacker
            .get(&format!("/admin/user/view/{bob}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Not theirs to grant.
    let r = attacker
        .post("/admin/organization/2/global", &[("global", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post("/admin/organization/2/global", &[("global", "1")])
        .await;
    assert_eq!(location(&r), "/admin/organization");
    assert_eq!(
        attacker
            .get(&format!("/admin/user/view/{bob}"))
            .await
            .status(),
        StatusCode::OK
    );
    let grid = attacker
        .get("/admin/user?size=100")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        texts(&grid, "table.datagrid:not(.compact) tbody td:nth-child(2)")
            .contains(&"bob".to_owned())
    );
    // Default gives it up; Other is then the last global organization, which keeps it.
    app.post("/admin/organization/1/global", &[("global", "0")])
        .await;
    assert_eq!(
        app.flashes().await,
        vec!["Organization Default no longer has global access."]
    );
    app.post("/admin/organization/2/global", &[("global", "0")])
        .await;
    assert_eq!(
        app.flashes().await,
        Vec::<String>::new(),
        "the admin of Default lost the reach to do it"
    );
    let r = attacker
        .post("/admin/organization/2/global", &[("global", "0")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM organizations WHERE is_global = TRUE")
            .await,
        1,
        "the last global organization keeps it"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'organization.global_%'")
            .await,
        2
    );
}
