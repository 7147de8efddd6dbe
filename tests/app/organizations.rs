//! Organizations: management, refusals, the current organization and the switcher.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp, location, login_with, new_client, text_of, texts};

both_backends!(
    manage_organizations,
    switching_organizations,
    non_admin_cannot_manage_organizations
);

async fn manage_organizations(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let r = app.post("/admin/organization", &[("name", "Acme")]).await;
    assert_eq!(location(&r), "/admin/organization");
    assert_eq!(app.flashes().await, vec!["Organization Acme created."]);
    app.post("/admin/organization", &[("name", "ACME")]).await;
    assert_eq!(
        app.flashes().await,
        vec!["An organization with this name already exists."]
    );
    app.post("/admin/organization", &[("name", "  ")]).await;
    assert_eq!(app.flashes().await, vec!["This value should not be blank."]);

    let (_, html) = app.get_html("/admin/organization").await;
    let names = texts(&html, "table.organizations tbody td:nth-child(3)");
    assert_eq!(
        names,
        vec!["0", "1"],
        "Acme has no users, Default has the admin"
    );
    let acme = 2;
    app.post(
        &format!("/admin/organization/{acme}/rename"),
        &[("name", "Acme Corp")],
    )
    .await;
    assert_eq!(
        app.flashes().await,
        vec!["Organization renamed to Acme Corp."]
    );
    app.post(&format!("/admin/organization/{acme}/disable"), &[])
        .await;
    assert_eq!(
        app.flashes().await,
        vec!["Organization Acme Corp disabled."]
    );
    app.post(&format!("/admin/organization/{acme}/enable"), &[])
        .await;
    assert_eq!(app.flashes().await, vec!["Organization Acme Corp enabled."]);

    // The organization one works in cannot be disabled; one with users cannot be deleted.
    app.post("/admin/organization/1/disable", &[]).await;
    assert_eq!(
        app.flashes().await,
        vec![
            "You cannot disable the organization you are working in. Switch to another one first."
        ]
    );
    app.post("/admin/organization/1/delete", &[]).await;
    assert_eq!(
        app.flashes().await,
        vec!["Organization Default cannot be deleted: it still has 1 user."]
    );
    // Records count too.
    app.sql(&format!(
        "INSERT INTO oauth_applications (owner_id, organization_id, name, client_id, secret_hash, created_at, updated_at) \
         VALUES (1, {acme}, 'App', 'cid-9', 'x', 0, 0)"
    ))
    .await;
    app.post(&format!("/admin/organization/{acme}/delete"), &[])
        .await;
    assert_eq!(
        app.flashes().await,
        vec!["Organization Acme Corp cannot be deleted: it still has 1 OAuth application."]
    );
    app.sql("DELETE FROM oauth_applications").await;
    app.post(&format!("/admin/organization/{acme}/delete"), &[])
        .await;
    assert_eq!(app.flashes().await, vec!["Organization Acme Corp deleted."]);
    let (_, html) = app.get_html("/admin/organization").await;
    assert_eq!(texts(&html, "table.organizations tbody tr").len(), 1);
}

async fn switching_organizations(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    app.post("/admin/organization", &[("name", "Acme")]).await;
    app.post("/admin/organization", &[("name", "Zeta")]).await;
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    // bob belongs to Default and Acme (through the edit form), not to Zeta.
    let (_, form) = app.get_html(&format!("/admin/user/update/{bob}")).await;
    let r = app
        .post_form(
            &format!("/admin/user/update/{bob}"),
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
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, grid) = app
        .get_html("/admin/user?username=bob&username_op=is")
        .await;
    assert_eq!(
        texts(&grid, "table.datagrid tbody td:nth-child(8)"),
        vec!["Acme, Default"]
    );

    let (c, _) = new_client();
    login_with(&c, &app.base, "bob", "Bob-pass-123").await;
    let page = text_of(&c, app.url("/admin/user/profile/view")).await;
    assert_eq!(texts(&page, "#org-switch option"), vec!["Acme", "Default"]);
    assert_eq!(
        texts(&page, "#org-switch option[selected]"),
        vec!["Acme"],
        "first by name"
    );
    let token = crate::common::csrf_from(&page).unwrap();
    let switch = |to: &'static str| {
        c.post(app.url("/admin/organization/switch"))
            .form(&[
                ("_csrf", token.as_str()),
                ("organization", to),
                ("return", "/admin/user/profile/view"),
            ])
            .send()
    };
    let r = switch("1").await.unwrap();
    assert_eq!(location(&r), "/admin/user/profile/view");
    let page = text_of(&c, app.url("/admin/user/profile/view")).await;
    assert_eq!(
        texts(&page, ".flash-success"),
        vec!["You are now working in Default."]
    );
    assert_eq!(
        texts(&page, "#org-switch option[selected]"),
        vec!["Default"]
    );

    // A hand-made post with an organization bob does not belong to is refused.
    for forged in ["3", "999", "abc"] {
        let r = switch(forged).await.unwrap();
        assert!(
            r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::BAD_REQUEST,
            "{forged}: {}",
            r.status()
        );
    }
    let page = text_of(&c, app.url("/admin/user/profile/view")).await;
    assert_eq!(
        texts(&page, "#org-switch option[selected]"),
        vec!["Default"],
        "unchanged"
    );

    // The last used organization comes back at the next sign-in.
    let (c2, _) = new_client();
    login_with(&c2, &app.base, "bob", "Bob-pass-123").await;
    let page = text_of(&c2, app.url("/admin/user/profile/view")).await;
    assert_eq!(
        texts(&page, "#org-switch option[selected]"),
        vec!["Default"]
    );

    // Disabling the organization bob works in moves his session to one he can still use.
    app.post("/admin/organization/1/disable", &[]).await;
    assert_eq!(
        app.flashes().await,
        vec![
            "You cannot disable the organization you are working in. Switch to another one first."
        ]
    );
    // The admin belongs only to Default; a second administrator in Acme disables Default,
    // which takes Acme having global access (an administrator of Acme alone manages only
    // Acme).
    let r = app
        .post("/admin/organization/2/global", &[("global", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.flashes().await,
        vec!["Organization Acme has global access."]
    );
    let out = app.create_user(&[
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password",
        "Root-pass-1",
        "--admin",
        "--organization",
        "Acme",
    ]);
    assert!(out.status.success());
    let (root, _) = new_client();
    login_with(&root, &app.base, "root", "Root-pass-1").await;
    let rp = text_of(&root, app.url("/admin/organization")).await;
    let rt = crate::common::csrf_from(&rp).unwrap();
    let r = root
        .post(app.url("/admin/organization/1/disable"))
        .form(&[("_csrf", rt.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = text_of(&c2, app.url("/admin/user/profile/view")).await;
    assert_eq!(
        texts(&page, ".org-name"),
        vec!["Acme"],
        "only Acme is left to work in"
    );
    // The first admin's only organization is disabled: their session ends.
    assert_eq!(app.get("/admin/user").await.status(), StatusCode::SEE_OTHER);
    let html = app
        .login("admin", crate::common::ADMIN_PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".login .flash-error"),
        vec!["Your login was unsuccessful"],
        "no enabled organization: refused like a wrong password"
    );
}

async fn non_admin_cannot_manage_organizations(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    app.login("bob", "Bob-pass-123").await;
    assert_eq!(
        app.get("/admin/organization").await.status(),
        StatusCode::FORBIDDEN
    );
    for path in [
        "/admin/organization",
        "/admin/organization/1/rename",
        "/admin/organization/1/disable",
        "/admin/organization/1/delete",
    ] {
        let r = app.post(path, &[("name", "Hacked")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    app.post("/admin/user/logout", &[]).await;
    app.login_as_admin().await;
    let (_, html) = app.get_html("/admin/organization").await;
    assert!(!html.contains("Hacked"));
    assert_eq!(texts(&html, "table.organizations tbody tr").len(), 1);
}
