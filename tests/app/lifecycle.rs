//! Enable/disable, lock-out and Activate, delete: each transition and each refusal.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp, location, login_with, new_client, texts};

both_backends!(
    enable_and_disable_one_user,
    disabling_ends_live_sessions,
    nobody_disables_or_deletes_themselves,
    locked_user_is_activated,
    delete_refused_while_user_owns_records,
    every_action_needs_csrf,
    mass_actions_on_all_matching,
    mass_action_without_confirmation_asks_first,
    non_admin_gets_403_everywhere,
);

async fn enable_and_disable_one_user(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;

    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(
        texts(&page, ".page-actions button")
            .iter()
            .any(|b| b.ends_with("Disable User"))
    );
    assert!(
        !texts(&page, ".page-actions button")
            .iter()
            .any(|b| b.ends_with("Enable User"))
    );

    let r = app.post(&format!("/admin/user/disable/{bob}"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(texts(&page, ".flash-success").contains(&"User bob disabled.".to_string()));
    assert!(
        texts(&page, ".page-actions button")
            .iter()
            .any(|b| b.ends_with("Enable User"))
    );
    assert!(texts(&page, "dl.info dd").contains(&"Disabled".to_string()));
    assert!(
        texts(&page, "table.compact td").contains(&"Disabled".to_string()),
        "history shows it"
    );

    let (c, _) = new_client();
    let html = login_with(&c, &app.base, "bob", "Bob-pass-123")
        .await
        .text()
        .await
        .unwrap();
    // The right password of a disabled account gets the answer a wrong one gets.
    assert_eq!(
        texts(&html, ".login .flash-error"),
        vec!["Your login was unsuccessful"]
    );

    // From the grid's row menu, coming back to the grid state it was posted from.
    let r = app
        .post(
            &format!("/admin/user/enable/{bob}"),
            &[("return", "/admin/user?view=disabled")],
        )
        .await;
    assert_eq!(location(&r), "/admin/user?view=disabled");
    assert_eq!(app.flashes().await, vec!["User bob enabled."]);
    let r = login_with(&c, &app.base, "bob", "Bob-pass-123").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
    // A `return` to another host is ignored.
    let r = app
        .post(
            &format!("/admin/user/disable/{bob}"),
            &[("return", "//evil.example/")],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
}

async fn disabling_ends_live_sessions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let (bob_client, _) = new_client();
    login_with(&bob_client, &app.base, "bob", "Bob-pass-123").await;
    let profile = || bob_client.get(app.url("/admin/user/profile/view")).send();
    assert_eq!(profile().await.unwrap().status(), StatusCode::OK);
    app.login_as_admin().await;
    app.post(&format!("/admin/user/disable/{bob}"), &[]).await;
    let r = profile().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the live session is cut at the next request"
    );
    // Enabling again does not bring the old session back: it was removed.
    app.post(&format!("/admin/user/enable/{bob}"), &[]).await;
    assert_eq!(profile().await.unwrap().status(), StatusCode::SEE_OTHER);
}

async fn nobody_disables_or_deletes_themselves(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let r = app.post("/admin/user/disable/1", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("You cannot disable your own account.")
    );
    let (_, page) = app.get_html("/admin/user/view/1").await;
    assert!(
        !texts(&page, ".page-actions button")
            .iter()
            .any(|b| b.ends_with("Disable User"))
    );
    assert!(page.contains(
        "The delete operation is forbidden. Reason: you cannot delete your own account."
    ));
    let r = app.post("/admin/user/delete/1", &[]).await;
    assert_eq!(location(&r), "/admin/user/view/1");
    assert!(app.flashes().await[0].starts_with(
        "The delete operation is forbidden. Reason: you cannot delete your own account."
    ));
    let (status, _) = app.get_html("/admin/user/delete/1").await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Mass disable with oneself selected: skipped, and said so.
    let other = app.create_plain_user("carol", "Carol-pass-1");
    let r = app
        .post(
            "/admin/user/mass/disable",
            &[("ids", "1"), ("ids", &other.to_string()), ("confirm", "1")],
        )
        .await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(
        app.flashes().await,
        vec![
            "1 user(s) were disabled",
            "Your own account was skipped: you cannot disable yourself."
        ]
    );
    assert_eq!(app.grid_usernames("view=disabled").await, vec!["carol"]);

    // A second administrator can be deleted by the first; the remaining one is the last.
    let out = app.create_user(&[
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password",
        "Root-pass-1",
        "--admin",
    ]);
    assert!(out.status.success());
    let root: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let (root_client, _) = new_client();
    login_with(&root_client, &app.base, "root", "Root-pass-1").await;
    let r = app.post(&format!("/admin/user/delete/{root}"), &[]).await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(app.flashes().await, vec!["User root deleted."]);
    assert_eq!(
        root_client
            .get(app.url("/admin/user"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
}

async fn locked_user_is_activated(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |s| s.security.max_failed_login_attempts = 2).await
    else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let (c, _) = new_client();
    app.login_as_admin().await;
    // Activate only applies to a locked user.
    let r = app.post(&format!("/admin/user/activate/{bob}"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(!texts(&page, ".page-actions button").contains(&"Activate".to_string()));

    login_with(&c, &app.base, "bob", "nope-1A").await;
    // One failure, then a success: the counter starts again.
    assert_eq!(
        location(&login_with(&c, &app.base, "bob", "Bob-pass-123").await),
        "/admin/user/profile/view"
    );
    let (c, _) = new_client();
    login_with(&c, &app.base, "bob", "nope-1A").await;
    login_with(&c, &app.base, "bob", "nope-1A").await;
    let html = login_with(&c, &app.base, "bob", "Bob-pass-123")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".login .flash-error"),
        vec!["Your login was unsuccessful"],
        "locked: the right password is not told apart"
    );

    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(texts(&page, "dl.info dd").contains(&"Locked".to_string()));
    assert!(texts(&page, ".page-actions button").contains(&"Activate".to_string()));
    assert!(
        texts(&page, "table.compact td")
            .contains(&"Locked after too many failed login attempts".to_string())
    );
    let r = app.post(&format!("/admin/user/activate/{bob}"), &[]).await;
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(texts(&page, ".flash-success").contains(&"User bob activated.".to_string()));
    assert!(texts(&page, "dl.info dd").contains(&"Active".to_string()));
    // Counter cleared: one wrong password does not lock again.
    login_with(&c, &app.base, "bob", "nope-1A").await;
    assert_eq!(
        location(&login_with(&c, &app.base, "bob", "Bob-pass-123").await),
        "/admin/user/profile/view"
    );
}

async fn delete_refused_while_user_owns_records(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let (bob_client, _) = new_client();
    login_with(&bob_client, &app.base, "bob", "Bob-pass-123").await;
    // An OAuth application owned by bob (created directly until that capability exists).
    app.sql(&format!(
        "INSERT INTO oauth_applications (owner_id, organization_id, name, client_id, secret_hash, created_at, updated_at) \
         VALUES ({bob}, 1, 'CRM sync', 'cid-1', 'x', 0, 0)"
    ))
    .await;
    app.login_as_admin().await;
    let (status, html) = app.get_html(&format!("/admin/user/delete/{bob}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("The delete operation is forbidden. Reason: the user has records assigned to them (1 OAuth application)."));
    let r = app.post(&format!("/admin/user/delete/{bob}"), &[]).await;
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
    let (status, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert_eq!(status, StatusCode::OK, "bob still exists");
    assert!(texts(&page, ".flash-error")[0].contains("(1 OAuth application)"));
    assert!(page.contains(r#"disabled title="The delete operation is forbidden. Reason: the user has records assigned to them (1 OAuth application)"#));

    app.sql("DELETE FROM oauth_applications").await;
    let (status, html) = app.get_html(&format!("/admin/user/delete/{bob}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&html, "h1"), vec!["Deletion Confirmation"]);
    assert!(texts(&html, "button").contains(&"Yes, Delete".to_string()));
    let r = app
        .post(&format!("/admin/user/delete/{bob}"), &[("confirm", "1")])
        .await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(app.flashes().await, vec!["User bob deleted."]);
    assert_eq!(
        app.get(&format!("/admin/user/view/{bob}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.grid_usernames("").await, vec!["admin"]);
    // Their session went with them.
    let r = bob_client
        .get(app.url("/admin/user/profile/view"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn every_action_needs_csrf(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    for path in [
        format!("/admin/user/disable/{bob}"),
        format!("/admin/user/delete/{bob}"),
        "/admin/user/mass/disable".to_string(),
        format!("/admin/user/update/{bob}"),
        "/admin/user/create".to_string(),
        "/admin/user/views".to_string(),
    ] {
        let r = app
            .client
            .post(app.url(&path))
            .form(&[
                ("ids", bob.to_string().as_str()),
                ("confirm", "1"),
                ("all_matching", "1"),
                ("username", "x"),
                ("name", "v"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        app.grid_usernames("view=active").await,
        vec!["admin", "bob"],
        "nothing changed"
    );
}

async fn mass_actions_on_all_matching(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for i in 0..30 {
        app.create_plain_user(&format!("team{i:02}"), "Passw0rd-x");
    }
    for name in ["other1", "other2"] {
        app.create_plain_user(name, "Passw0rd-x");
    }
    app.login_as_admin().await;
    // "All 30 matching users" of a filtered grid, across pages, plus a stray id that is not
    // in the filter: the filter decides, not the browser.
    let r = app
        .post(
            "/admin/user/mass/disable",
            &[
                ("all_matching", "1"),
                ("q", "username=team&username_op=starts"),
                ("ids", "1"),
                ("confirm", "1"),
                ("return", "/admin/user?username=team"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/user?username=team");
    assert_eq!(app.flashes().await, vec!["30 user(s) were disabled"]);
    assert_eq!(app.grid_usernames("view=disabled").await.len(), 30);
    assert_eq!(
        app.grid_usernames("view=active").await,
        vec!["admin", "other1", "other2"]
    );
    // Already disabled rows are not counted again.
    app.post(
        "/admin/user/mass/disable",
        &[
            ("all_matching", "1"),
            ("q", "username=team&username_op=starts"),
            ("confirm", "1"),
        ],
    )
    .await;
    assert_eq!(app.flashes().await, vec!["0 user(s) were disabled"]);
    // Enable by checked rows.
    let ids: Vec<String> = (2..=4).map(|i| i.to_string()).collect();
    let mut form: Vec<(&str, &str)> = ids.iter().map(|i| ("ids", i.as_str())).collect();
    form.push(("confirm", "1"));
    app.post("/admin/user/mass/enable", &form).await;
    assert_eq!(app.flashes().await, vec!["3 user(s) were enabled"]);
    assert_eq!(app.grid_usernames("view=disabled").await.len(), 27);
    // Each change is in the audit log.
    let (_, page) = app.get_html("/admin/user/view/2").await;
    let history = texts(&page, "table.compact td");
    assert!(history.contains(&"Disabled".to_string()) && history.contains(&"Enabled".to_string()));
    // A bad filter in the selection changes nothing and says why.
    let r = app
        .post(
            "/admin/user/mass/enable",
            &[
                ("all_matching", "1"),
                ("q", "status=nonsense"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(
        app.flashes().await,
        vec!["Unknown authentication status \"nonsense\"."]
    );
    assert_eq!(app.grid_usernames("view=disabled").await.len(), 27);
    // Nothing selected: a message, nothing changed.
    let r = app
        .post("/admin/user/mass/enable", &[("confirm", "1")])
        .await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(
        app.flashes().await,
        vec!["Select at least one user first (or all matching users)."]
    );
}

async fn mass_action_without_confirmation_asks_first(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let r = app
        .post(
            "/admin/user/mass/disable",
            &[("ids", &bob.to_string()), ("return", "/admin/user?page=1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#confirm-text"),
        vec!["Selected users will be disabled."]
    );
    assert!(html.contains(&format!(r#"name="ids" value="{bob}""#)));
    assert_eq!(
        app.grid_usernames("view=disabled").await,
        Vec::<String>::new(),
        "nothing yet"
    );
    let r = app
        .post_form(
            "/admin/user/mass/disable",
            &html,
            &[("ids", &bob.to_string()), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.grid_usernames("view=disabled").await, vec!["bob"]);
}

async fn non_admin_gets_403_everywhere(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    let r = app.login("bob", "Bob-pass-123").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
    for path in [
        "/admin/user",
        "/admin/user/view/1",
        "/admin/user/create",
        "/admin/user/update/1",
        "/admin/user/delete/1",
        "/admin/user/change-password/1",
        "/admin/user/fields",
        "/admin/organization",
    ] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    for path in [
        "/admin/user/disable/1",
        "/admin/user/enable/1",
        "/admin/user/activate/1",
        "/admin/user/delete/1",
        "/admin/user/mass/disable",
        "/admin/user/create",
        "/admin/user/update/1",
        "/admin/user/views",
        "/admin/user/views/1/delete",
        "/admin/user/change-password/1",
        "/admin/user/reset-password/1",
        "/admin/user/mass/reset",
        "/admin/user/export",
        "/admin/user/fields",
        "/admin/user/apigen/1",
        "/admin/organization",
        "/admin/organization/1/disable",
    ] {
        let r = app
            .post(
                path,
                &[
                    ("ids", "1"),
                    ("confirm", "1"),
                    ("username", "x"),
                    ("name", "x"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    app.post("/admin/user/logout", &[]).await;
    app.login_as_admin().await;

    assert_eq!(
        app.grid_usernames("view=active").await,
        vec!["admin", "bob"],
        "nothing changed"
    );
}
