//! Change Password (administrator's and one's own), Reset Password (single, row, mass),
//! Suggest Password, and the export email: all read from real emails (file transport).

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp, location, login_with, new_client, text_of, texts};
use crate::mailbox::wait_for_files;

both_backends!(
    admin_changes_a_password,
    own_password_change_keeps_this_session_only,
    reset_one_from_page_and_row,
    mass_reset_over_all_matching,
    suggest_password_meets_policy,
    export_email_links_to_the_file,
);

async fn spawn(backend: Backend) -> Option<(TestApp, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("mail dir");
    let dsn = format!("file://{}", dir.path().display());
    let app = TestApp::spawn_with(backend, |s| s.mailer.dsn = dsn).await?;
    Some((app, dir))
}

async fn admin_changes_a_password(backend: Backend) {
    let Some((app, mail)) = spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let (bob_client, _) = new_client();
    login_with(&bob_client, &app.base, "bob", "Bob-pass-123").await;
    app.login_as_admin().await;
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(
        texts(&page, ".more-actions a")
            .iter()
            .any(|t| t.ends_with("Change Password"))
    );
    assert!(
        texts(&page, ".more-actions button")
            .iter()
            .any(|t| t.ends_with("Reset Password"))
    );
    assert_eq!(
        texts(&page, "#change-password-dialog h2"),
        vec!["Change Password"]
    );

    let (status, form) = app
        .get_html(&format!("/admin/user/change-password/{bob}?suggest=1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&form, "a").contains(&"Suggest Password".to_string()));
    let r = app
        .post(
            &format!("/admin/user/change-password/{bob}"),
            &[("password", "weak")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#e-password"),
        vec!["The password must contain at least 8 characters, an upper-case letter and a number."]
    );

    let r = app
        .post(
            &format!("/admin/user/change-password/{bob}"),
            &[("password", "Brand-new-pass-9")],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
    assert_eq!(
        app.flashes().await,
        vec!["The password of bob was changed."]
    );
    // bob's open session ended; the new password works, the old one does not.
    let r = bob_client
        .get(app.url("/admin/user/profile/view"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (c, _) = new_client();
    assert_eq!(
        location(&login_with(&c, &app.base, "bob", "Brand-new-pass-9").await),
        "/admin/user/profile/view"
    );
    let (c, _) = new_client();
    assert_eq!(
        login_with(&c, &app.base, "bob", "Bob-pass-123")
            .await
            .status(),
        StatusCode::OK
    );
    // The email tells bob who and when, never the password.
    let mails = wait_for_files(mail.path(), 1).await;
    assert_eq!(mails[0].to, "bob@example.com");
    assert_eq!(mails[0].subject, "Your Gatehouse password was changed");
    assert!(
        mails[0]
            .text
            .contains("An administrator (admin) changed the password")
    );
    assert!(
        !mails[0].text.contains("Brand-new-pass-9")
            && !mails[0]
                .html
                .as_deref()
                .unwrap_or("")
                .contains("Brand-new-pass-9")
    );

    // Not for a disabled (or locked, or reset) user.
    app.post(&format!("/admin/user/disable/{bob}"), &[]).await;
    let r = app
        .post(
            &format!("/admin/user/change-password/{bob}"),
            &[("password", "Other-pass-77")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(
        !texts(&page, ".more-actions a")
            .iter()
            .any(|t| t.ends_with("Change Password"))
    );
}

async fn own_password_change_keeps_this_session_only(backend: Backend) {
    let Some((app, _mail)) = spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    let (other, _) = new_client();
    login_with(&other, &app.base, "bob", "Bob-pass-123").await;
    app.login("bob", "Bob-pass-123").await;
    let (status, page) = app.get_html("/admin/user/profile/change-password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&page, "label").contains(&"Current password".to_string()));
    let r = app
        .post(
            "/admin/user/profile/change-password",
            &[
                ("current_password", "wrong"),
                ("password", "Brand-new-pass-9"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        texts(&r.text().await.unwrap(), "#e-current_password"),
        vec!["The current password is not correct."]
    );
    let r = app
        .post(
            "/admin/user/profile/change-password",
            &[
                ("current_password", "Bob-pass-123"),
                ("password", "Brand-new-pass-9"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/user/profile/view");
    assert_eq!(app.flashes().await, vec!["Your password was changed."]);
    assert_eq!(
        app.get("/admin/user/profile/view").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    let r = other
        .get(app.url("/admin/user/profile/view"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the other session ended");
    // A User cannot use the administrator's form on anyone, themselves included.
    let r = app
        .post(
            "/admin/user/change-password/1",
            &[("password", "Hijack-pass-1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn reset_one_from_page_and_row(backend: Backend) {
    let Some((app, mail)) = spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let carol = app.create_plain_user("carol", "Carol-pass-1");
    app.login_as_admin().await;
    let r = app
        .post(&format!("/admin/user/reset-password/{bob}"), &[])
        .await;
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(
        texts(&page, ".flash-success")
            .contains(&"Password reset request has been sent to bob@example.com.".to_string())
    );
    assert!(texts(&page, "dl.info dd").contains(&"Password reset".to_string()));
    // From the row menu, back to the grid.
    let r = app
        .post(
            &format!("/admin/user/reset-password/{carol}"),
            &[("return", "/admin/user?view=cannot_login")],
        )
        .await;
    assert_eq!(location(&r), "/admin/user?view=cannot_login");
    assert_eq!(
        app.grid_usernames("view=cannot_login").await,
        vec!["bob", "carol"]
    );
    // Not oneself.
    assert_eq!(
        app.post("/admin/user/reset-password/1", &[]).await.status(),
        StatusCode::FORBIDDEN
    );

    let (c, _) = new_client();
    let html = login_with(&c, &app.base, "bob", "Bob-pass-123")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".login .flash-error"),
        vec!["Your login was unsuccessful"]
    );
    let mails = wait_for_files(mail.path(), 2).await;
    let to_bob = mails.iter().find(|m| m.to == "bob@example.com").unwrap();
    let public = app.state.settings.public_link("");
    let link = to_bob
        .link(&format!("{public}/admin/user/reset/"))
        .expect("reset link");
    let path = link.strip_prefix(&public).unwrap().to_owned();
    let (c, _) = new_client();
    let form = text_of(&c, app.url(&path)).await;
    let token = crate::common::csrf_from(&form).unwrap();
    let r = c
        .post(app.url(&path))
        .form(&[
            ("_csrf", token.as_str()),
            ("password", "Fresh-pass-42"),
            ("password_repeat", "Fresh-pass-42"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let (c, _) = new_client();
    assert_eq!(
        location(&login_with(&c, &app.base, "bob", "Fresh-pass-42").await),
        "/admin/user/profile/view"
    );
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    assert!(texts(&page, "dl.info dd").contains(&"Active".to_string()));
}

async fn mass_reset_over_all_matching(backend: Backend) {
    let Some((app, mail)) = spawn(backend).await else {
        return;
    };
    for i in 0..6 {
        app.create_plain_user(&format!("crew{i}"), "Passw0rd-x");
    }
    app.create_plain_user("other", "Passw0rd-x");
    app.login_as_admin().await;
    app.post("/admin/user/disable/2", &[]).await; // crew0 is disabled: skipped, as in Oro
    app.flashes().await;
    // Without confirmation, the "Reset Password" dialog's page first.
    let r = app
        .post(
            "/admin/user/mass/reset",
            &[
                ("all_matching", "1"),
                ("q", "username=crew&username_op=starts"),
            ],
        )
        .await;
    let html = r.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), vec!["Reset Password"]);
    assert_eq!(
        texts(&html, "#confirm-text"),
        vec![
            "The selected users will receive reset password by email and will be disabled from login."
        ]
    );
    assert!(texts(&html, "button").contains(&"Reset".to_string()));
    let r = app
        .post(
            "/admin/user/mass/reset",
            &[
                ("all_matching", "1"),
                ("q", "username=crew&username_op=starts"),
                ("ids", "1"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(
        app.flashes().await,
        vec!["Password reset completed successfully. 5 emails sent."]
    );
    let mails = wait_for_files(mail.path(), 5).await;
    let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        vec![
            "crew1@example.com",
            "crew2@example.com",
            "crew3@example.com",
            "crew4@example.com",
            "crew5@example.com"
        ]
    );
    assert_eq!(
        app.grid_usernames("status=password_reset").await,
        vec!["crew1", "crew2", "crew3", "crew4", "crew5"]
    );
    // One audit row per user reset, by the administrator, not self-service; none for the
    // skipped disabled user.
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.target_id \
             WHERE a.action = 'password.reset_requested' AND a.actor_name = 'admin' \
             AND a.target_label = u.username AND u.username IN ('crew1', 'crew2', 'crew3', 'crew4', 'crew5') \
             AND a.details = '{\"self_service\":false}'"
        )
        .await,
        5
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'password.reset_requested'")
            .await,
        5
    );
    // Checked rows, including oneself: oneself is skipped.
    app.post(
        "/admin/user/mass/reset",
        &[("ids", "1"), ("ids", "8"), ("confirm", "1")],
    )
    .await;
    assert_eq!(
        app.flashes().await,
        vec!["Password reset completed successfully. 1 emails sent."]
    );
}

async fn suggest_password_meets_policy(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.security.password.min_length = 12;
        s.security.password.require_special = true;
    })
    .await
    else {
        return;
    };
    assert_eq!(
        app.get("/admin/user/suggest-password").await.status(),
        StatusCode::SEE_OTHER,
        "signed in only"
    );
    app.login_as_admin().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let r = app.get("/admin/user/suggest-password").await;
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: serde_json::Value = r.json().await.unwrap();
        let pw = body["password"].as_str().unwrap().to_owned();
        assert!(pw.chars().count() >= 16, "{pw}");
        assert!(
            pw.chars().any(|c| c.is_ascii_lowercase())
                && pw.chars().any(|c| c.is_ascii_uppercase())
        );
        assert!(pw.chars().any(|c| c.is_ascii_digit()) && pw.chars().any(|c| !c.is_alphanumeric()));
        assert!(seen.insert(pw), "never the same twice");
    }
}

async fn export_email_links_to_the_file(backend: Backend) {
    let Some((app, mail)) = spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    app.post("/admin/user/export", &[]).await;
    let mails = wait_for_files(mail.path(), 1).await;
    assert_eq!(mails[0].to, "admin@example.com");
    assert_eq!(mails[0].subject, "Export result for job 1");
    assert!(
        mails[0]
            .text
            .contains("Export performed successfully. 2 users were exported.")
    );
    let public = app.state.settings.public_link("");
    let link = mails[0]
        .link(&format!("{public}/admin/user/export/"))
        .expect("download link");
    let r = app.get(link.strip_prefix(&public).unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().starts_with("id,username,email"));
}
