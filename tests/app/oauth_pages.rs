//! OAuth applications in the back-office: the one-time secret, the pages and row actions,
//! the organization field, and what a user who is not an administrator may do.

use crate::both_backends;
use crate::common::{Backend, cli_command, csrf_from, location, login_with, new_client, texts};
#[allow(unused_imports)]
use crate::oauth::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;

both_backends!(
    secret_is_shown_only_once_and_can_be_regenerated,
    manage_applications_from_the_pages,
    organization_field_and_disabled_organization,
    non_admin_manages_only_own_applications,
);

async fn secret_is_shown_only_once_and_can_be_regenerated(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let (id, first) = add_app(&app, bob, "CRM sync", &[]).await;
    let app_id = app_id(&app, &id).await;
    let stored: Vec<String> = match &app.state.db {
        gatehouse::store::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT secret_hash FROM oauth_applications")
                .fetch_all(p)
                .await
                .unwrap()
        }
        gatehouse::store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT secret_hash FROM oauth_applications")
                .fetch_all(p)
                .await
                .unwrap()
        }
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], first, "only a hash is stored");
    assert_eq!(stored[0].len(), 64);

    let pages = [
        format!("/admin/user/view/{bob}"),
        "/admin/oauth-applications".to_string(),
        format!("/admin/oauth-applications/{app_id}/update"),
        format!("/admin/oauth-applications/{app_id}/regenerate"),
        format!("/admin/oauth-applications/{app_id}/delete"),
    ];
    let never_shown = |secret: String| {
        let pages = pages.clone();
        let app = &app;
        async move {
            for p in &pages {
                let (s, html) = app.get_html(p).await;
                assert_eq!(s, StatusCode::OK, "{p}");
                assert!(!html.contains(&secret), "{p} shows the secret");
            }
        }
    };
    never_shown(first.clone()).await;
    let (_, confirm) = app
        .get_html(&format!("/admin/oauth-applications/{app_id}/regenerate"))
        .await;
    assert_eq!(texts(&confirm, "h1"), vec!["Regenerate Secret"]);

    let r = app
        .post(
            &format!("/admin/oauth-applications/{app_id}/regenerate"),
            &[],
        )
        .await;
    let html = one_time_credentials(&app, r).await;
    assert_eq!(
        input_value(&html, "cred-client-id").as_deref(),
        Some(id.as_str())
    );
    let second = input_value(&html, "cred-client-secret").unwrap();
    assert_ne!(second, first);
    let (s, _, _) = error_of(token_with(&app, &id, &first).await).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the old secret stops working");
    access_token(&app, &id, &second).await;
    never_shown(second).await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'oauth_app.secret_regenerated'")
            .await,
        1
    );
}

async fn manage_applications_from_the_pages(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let page = format!("/admin/user/view/{bob}");

    // The form: one organization, so no Organization field; errors beside the field.
    let (_, form) = app
        .get_html(&format!("/admin/user/{bob}/oauth-app/create"))
        .await;
    assert_eq!(
        texts(&form, "form.oauth-form label"),
        vec!["Application Name", "Active"]
    );
    let r = app
        .post(
            &format!("/admin/user/{bob}/oauth-app/create"),
            &[("name", "  ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#app-e-name"),
        vec!["This value should not be blank."]
    );

    let (crm, _) = add_app(&app, bob, "CRM sync", &[]).await;
    let (erp, _) = add_app(&app, bob, "ERP bridge", &[]).await;
    let (crm_id, erp_id) = (app_id(&app, &crm).await, app_id(&app, &erp).await);
    let (_, html) = app.get_html(&page).await;
    assert_eq!(
        texts(&html, ".oauth-grid thead th"),
        vec!["Application Name", "Client ID", "Active", "More Options"]
    );
    assert_eq!(
        texts(&html, ".oauth-grid tbody td:nth-child(1)"),
        vec!["CRM sync", "ERP bridge"]
    );
    assert_eq!(
        texts(&html, ".oauth-grid tbody td:nth-child(2)"),
        vec![crm.clone(), erp.clone()]
    );
    assert_eq!(
        texts(&html, ".oauth-grid summary[aria-label='More Options']").len(),
        2
    );
    assert_eq!(
        texts(&html, "#oauth-add-dialog h2"),
        vec!["Add Application"]
    );

    // Deactivate from the row menu returns to where it came from.
    let back = format!("{page}?oauth_status=active");
    let enc: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    let (_, confirm) = app
        .get_html(&format!(
            "/admin/oauth-applications/{erp_id}/deactivate?return={enc}"
        ))
        .await;
    assert_eq!(texts(&confirm, "h1"), vec!["Deactivate Confirmation"]);
    assert!(
        texts(&confirm, "#confirm-text")[0]
            .starts_with("Are you sure you want to deactivate the application?")
    );
    let r = app
        .post(
            &format!("/admin/oauth-applications/{erp_id}/deactivate?return={enc}"),
            &[("confirm", "1")],
        )
        .await;
    assert_eq!(location(&r), back);
    let r = app
        .post(
            &format!("/admin/oauth-applications/{erp_id}/deactivate?return=//evil.example/"),
            &[],
        )
        .await;
    assert_eq!(location(&r), page, "another host is never a return target");

    // Filters: name, status.
    let names = |q: &'static str| {
        let app = &app;
        let page = page.clone();
        async move {
            let (_, html) = app.get_html(&format!("{page}?{q}")).await;
            texts(&html, ".oauth-grid tbody td:nth-child(1)")
        }
    };
    assert_eq!(names("oauth_name=crm").await, vec!["CRM sync"]);
    assert_eq!(names("oauth_status=inactive").await, vec!["ERP bridge"]);
    assert_eq!(names("oauth_status=active").await, vec!["CRM sync"]);
    assert_eq!(names("oauth_name=%25").await, Vec::<String>::new());

    // Edit: name and active.
    let (_, edit) = app
        .get_html(&format!("/admin/oauth-applications/{crm_id}/update"))
        .await;
    assert_eq!(texts(&edit, "h1"), vec!["Edit OAuth Application"]);
    let r = app
        .post(
            &format!("/admin/oauth-applications/{crm_id}/update"),
            &[("name", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            &format!("/admin/oauth-applications/{crm_id}/update"),
            &[("name", "CRM sync 2")],
        )
        .await;
    assert_eq!(location(&r), page);
    assert_eq!(app.flashes().await, vec!["Saved successfully"]);
    assert_eq!(
        names("oauth_status=inactive").await,
        vec!["CRM sync 2", "ERP bridge"]
    );

    // The global page: every user's applications, with owner and last use.
    let carol = app.create_plain_user("carol", "Carol-pass-1");
    add_app(&app, carol, "Carol's tool", &[]).await;
    let (_, list) = app.get_html("/admin/oauth-applications").await;
    assert_eq!(
        texts(&list, ".oauth-grid thead th"),
        vec![
            "Application Name",
            "Client ID",
            "Active",
            "Grant Type",
            "Last Used At",
            "User",
            "More Options"
        ]
    );
    assert_eq!(
        texts(&list, ".oauth-grid tbody td:nth-child(6)"),
        vec!["carol", "bob", "bob"]
    );
    let (_, list) = app
        .get_html("/admin/oauth-applications?status=active")
        .await;
    assert_eq!(
        texts(&list, ".oauth-grid tbody td:nth-child(1)"),
        vec!["Carol's tool"]
    );
    let (_, list) = app
        .get_html("/admin/oauth-applications?name=erp&used=never")
        .await;
    assert_eq!(
        texts(&list, ".oauth-grid tbody td:nth-child(1)"),
        vec!["ERP bridge"]
    );
    assert!(list.contains("1 applications"));

    // Delete, through "Deletion Confirmation".
    let (_, confirm) = app
        .get_html(&format!("/admin/oauth-applications/{erp_id}/delete"))
        .await;
    assert_eq!(texts(&confirm, "h1"), vec!["Deletion Confirmation"]);
    assert!(
        texts(&confirm, "#confirm-text")[0]
            .starts_with("Are you sure you want to delete the application?")
    );
    let r = app
        .post(
            &format!("/admin/oauth-applications/{erp_id}/delete?return=/admin/oauth-applications"),
            &[],
        )
        .await;
    assert_eq!(location(&r), "/admin/oauth-applications");
    assert_eq!(app.flashes().await, vec!["Deleted successfully"]);
    assert_eq!(
        app.get(&format!("/admin/oauth-applications/{erp_id}/update"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // A user who owns an application cannot be deleted.
    let r = app
        .post(&format!("/admin/user/delete/{bob}"), &[("confirm", "1")])
        .await;
    assert_eq!(location(&r), page);
    let flashes = app.flashes().await;
    assert!(flashes[0].contains("(1 OAuth application)"), "{flashes:?}");
    assert_eq!(
        app.get(&page).await.status(),
        StatusCode::OK,
        "bob is still there"
    );

    for (action, n) in [
        ("oauth_app.created", 3),
        ("oauth_app.deactivated", 1),
        ("oauth_app.updated", 1),
        ("oauth_app.deleted", 1),
    ] {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await,
            n,
            "{action}"
        );
    }
}

async fn organization_field_and_disabled_organization(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
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
    let bob: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    app.sql(&format!(
        "INSERT INTO user_organizations (user_id, organization_id) VALUES ({bob}, 1)"
    ))
    .await;
    let acme = 2;

    let (_, form) = app
        .get_html(&format!("/admin/user/{bob}/oauth-app/create"))
        .await;
    assert_eq!(
        texts(&form, "form.oauth-form label"),
        vec!["Organization", "Application Name", "Active"]
    );
    assert_eq!(
        texts(&form, "#app-organization option"),
        vec!["Acme", "Default"]
    );
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert_eq!(
        texts(&page, "#oauth-add-organization option"),
        vec!["Acme", "Default"]
    );

    let r = app
        .post(
            &format!("/admin/user/{bob}/oauth-app/create"),
            &[("name", "X"), ("organization", "999")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        texts(&r.text().await.unwrap(), "#app-e-organization"),
        vec!["This value is not valid."]
    );
    let r = app
        .post(
            &format!("/admin/user/{bob}/oauth-app/create"),
            &[("name", "X")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a choice is needed"
    );

    let (id, secret) = add_app(&app, bob, "Acme sync", &[("organization", "2")]).await;
    let token = access_token(&app, &id, &secret).await;
    assert_eq!(decode_independently(&token, &id)["org"], json!(acme));
    let me: Value = whoami(&app, &token).await.json().await.unwrap();
    assert_eq!(me["organization_id"], json!(acme));
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert_eq!(
        texts(&page, ".oauth-grid tbody td:nth-child(4)"),
        vec!["Acme"]
    );
    let (_, page) = app
        .get_html(&format!("/admin/user/view/{bob}?oauth_org=1"))
        .await;
    assert!(texts(&page, ".oauth-grid tbody tr").is_empty());

    // A disabled organization refuses new tokens and the ones already issued.
    app.post(&format!("/admin/organization/{acme}/disable"), &[])
        .await;
    assert_eq!(app.flashes().await, vec!["Organization Acme disabled."]);
    let (s, _, e) = error_of(token_with(&app, &id, &secret).await).await;
    assert_eq!(
        (s, e.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert_eq!(
        whoami(&app, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.post(&format!("/admin/organization/{acme}/enable"), &[])
        .await;
    // Leaving the organization has the same effect.
    app.sql(&format!(
        "DELETE FROM user_organizations WHERE user_id = {bob} AND organization_id = {acme}"
    ))
    .await;
    let (s, _, _) = error_of(token_with(&app, &id, &secret).await).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        whoami(&app, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn non_admin_manages_only_own_applications(backend: Backend) {
    let Some((app, _keys)) = spawn_oauth(backend, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let carol = app.create_plain_user("carol", "Carol-pass-1");
    app.login_as_admin().await;
    let (carol_client, carol_secret) = add_app(&app, carol, "Carol's tool", &[]).await;
    let carol_app = app_id(&app, &carol_client).await;

    let (c, _) = new_client();
    login_with(&c, &app.base, "bob", "Bob-pass-123").await;
    let get = |path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap() }
    };
    let profile = get("/admin/user/profile/view".into())
        .await
        .text()
        .await
        .unwrap();
    assert!(profile.contains(&format!(r#"href="/admin/user/{bob}/oauth-app/create""#)));
    let token = csrf_from(&profile).unwrap();
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let c = c.clone();
        let url = app.url(&path);
        let token = token.clone();
        async move {
            let mut form = vec![("_csrf", token.as_str())];
            form.extend(fields);
            c.post(url).form(&form).send().await.unwrap()
        }
    };

    // Bob's own application, from "My User".
    let r = post(
        format!("/admin/user/{bob}/oauth-app/create"),
        vec![("name", "Bob's script"), ("active", "1")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = get(location(&r)).await.text().await.unwrap();
    let bob_client = input_value(&html, "cred-client-id").unwrap();
    let bob_app = app_id(&app, &bob_client).await;
    let profile = get("/admin/user/profile/view".into())
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&profile, ".oauth-grid tbody td:nth-child(1)"),
        vec!["Bob's script"]
    );
    let r = post(
        format!("/admin/oauth-applications/{bob_app}/deactivate"),
        vec![],
    )
    .await;
    assert_eq!(location(&r), "/admin/user/profile/view");

    // Nothing of carol's, and not the global page.
    for path in [
        "/admin/oauth-applications".to_string(),
        format!("/admin/user/{carol}/oauth-app/create"),
        format!("/admin/oauth-applications/{carol_app}/update"),
        format!("/admin/oauth-applications/{carol_app}/deactivate"),
        format!("/admin/oauth-applications/{carol_app}/delete"),
        format!("/admin/oauth-applications/{carol_app}/regenerate"),
    ] {
        assert_eq!(
            get(path.clone()).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    for path in [
        format!("/admin/user/{carol}/oauth-app/create"),
        format!("/admin/oauth-applications/{carol_app}/update"),
        format!("/admin/oauth-applications/{carol_app}/activate"),
        format!("/admin/oauth-applications/{carol_app}/deactivate"),
        format!("/admin/oauth-applications/{carol_app}/delete"),
        format!("/admin/oauth-applications/{carol_app}/regenerate"),
    ] {
        let r = post(path.clone(), vec![("name", "hijacked"), ("active", "1")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    // Carol's application is untouched: same name, still active, same secret.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM oauth_applications").await,
        2
    );
    let (_, list) = app.get_html("/admin/oauth-applications?name=carol").await;
    assert_eq!(
        texts(&list, ".oauth-grid tbody td:nth-child(1)"),
        vec!["Carol's tool"]
    );
    assert_eq!(
        texts(&list, ".oauth-grid tbody td:nth-child(3)"),
        vec!["Yes"]
    );
    access_token(&app, &carol_client, &carol_secret).await;
}

/// `gatehouse oauth generate-keys`: the configured paths, mode 0600, no overwrite without
/// --force.
#[test]
fn generate_keys_command() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: bool| {
        let mut cmd = cli_command("sqlite://unused.db", dir.path());
        if env {
            cmd.env("GATEHOUSE_OAUTH__PRIVATE_KEY", "keys/private.pem")
                .env("GATEHOUSE_OAUTH__PUBLIC_KEY", "keys/public.pem");
        }
        cmd.args(args).output().expect("run gatehouse")
    };
    let private = dir.path().join("keys/private.pem");
    let public = dir.path().join("keys/public.pem");

    let out = run(&["oauth", "generate-keys"], true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("keys/private.pem"));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&private), 0o600);
    let first = std::fs::read_to_string(&private).unwrap();
    assert!(first.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );

    let out = run(&["oauth", "generate-keys"], true);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&private).unwrap(),
        first,
        "untouched"
    );

    let out = run(&["oauth", "generate-keys", "--force"], true);
    assert!(out.status.success());
    assert_ne!(
        std::fs::read_to_string(&private).unwrap(),
        first,
        "replaced"
    );
    assert_eq!(mode(&private), 0o600);

    // The default paths: var/ under the working directory.
    let out = run(&["oauth", "generate-keys"], false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&dir.path().join("var/oauth_private.key")), 0o600);
    assert!(dir.path().join("var/oauth_public.key").exists());
}
