//! Sign-in, sessions, CSRF and the admin gate.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{
    ADMIN_PASSWORD, Backend, TestApp, csrf_from, location, login_with, text_of, texts,
};

both_backends!(
    login_success_lands_on_grid,
    wrong_password_and_unknown_user_get_the_same_answer,
    refused_accounts_answer_the_same_for_any_password,
    one_lock_is_audited_once,
    disabled_user_live_session_is_cut,
    csrf_is_required_on_every_form,
    foreign_origin_is_refused,
    session_id_rotates_at_login,
    logout_ends_the_session,
    non_admin_is_kept_out_of_user_management,
    login_by_email_and_next_stays_on_site,
    failed_logins_lock_the_account,
    health_endpoints,
);

async fn login_success_lands_on_grid(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Anonymous: sent to the login page, remembering where they were going.
    let r = app.get("/admin/user").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/user/login?next=%2Fadmin%2Fuser");

    app.login_as_admin().await;
    let (status, html) = app.get_html("/admin/user").await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&html, "table.datagrid tbody td").contains(&"admin".to_string()));
    assert_eq!(texts(&html, ".whoami-name"), vec!["admin"]);
    assert!(
        html.contains(">Users</a>"),
        "menu System > User Management > Users"
    );
}

async fn wrong_password_and_unknown_user_get_the_same_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let wrong = app.login("admin", "Wrong-pass-1").await;
    assert_eq!(wrong.status(), StatusCode::OK);
    let wrong_html = wrong.text().await.unwrap();
    let unknown = app
        .login("nobody", "Wrong-pass-1")
        .await
        .text()
        .await
        .unwrap();
    let msg = |h: &str| texts(h, ".login .flash-error");
    assert_eq!(msg(&wrong_html), vec!["Your login was unsuccessful"]);
    assert_eq!(msg(&wrong_html), msg(&unknown));
    // The entered username is kept; the password is not echoed.
    assert!(wrong_html.contains(r#"value="admin""#));
    assert!(!wrong_html.contains("Wrong-pass-1"));
    // Still anonymous.
    assert_eq!(app.get("/admin/user").await.status(), StatusCode::SEE_OTHER);
}

/// OWASP ASVS 4 V2.2.1 / V3.2: while an account cannot sign in (disabled, locked, waiting
/// for a reset), the right and a wrong password get the same answer, and no password is
/// checked for it (so the failure counter stands still).
async fn refused_accounts_answer_the_same_for_any_password(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    for state in [
        "enabled = FALSE",
        "auth_status = 'locked'",
        "auth_status = 'password_reset'",
    ] {
        app.sql("UPDATE users SET enabled = TRUE, auth_status = 'active', failed_login_count = 0 WHERE username_key = 'bob'")
            .await;
        app.sql(&format!(
            "UPDATE users SET {state} WHERE username_key = 'bob'"
        ))
        .await;
        let right = app.login("bob", "Bob-pass-123").await;
        assert_eq!(right.status(), StatusCode::OK, "{state}");
        let right = right.text().await.unwrap();
        let wrong = app.login("bob", "Bob-pass-999").await.text().await.unwrap();
        let unknown = app
            .login("nobody", "Bob-pass-999")
            .await
            .text()
            .await
            .unwrap();
        let msg = |h: &str| texts(h, ".login");
        assert_eq!(
            texts(&right, ".login .flash-error"),
            vec!["Your login was unsuccessful"],
            "{state}"
        );
        assert_eq!(msg(&right), msg(&wrong), "{state}: right and wrong alike");
        assert_eq!(
            msg(&wrong).join("").replace("bob", ""),
            msg(&unknown).join("").replace("nobody", ""),
            "{state}: and alike an unknown name"
        );
        assert_eq!(
            app.scalar(
                "SELECT CAST(failed_login_count AS BIGINT) FROM users WHERE username_key = 'bob'"
            )
            .await,
            0,
            "{state}: no password was checked, nothing counted"
        );
        assert_eq!(app.get("/admin/user").await.status(), StatusCode::SEE_OTHER);
    }
}

async fn disabled_user_live_session_is_cut(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    let r = app.login("bob", "Bob-pass-123").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
    assert_eq!(
        app.get("/admin/user/profile/view").await.status(),
        StatusCode::OK
    );
    app.sql("UPDATE users SET enabled = FALSE WHERE username_key = 'bob'")
        .await;
    let r = app.get("/admin/user/profile/view").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/admin/user/login"));
}

async fn csrf_is_required_on_every_form(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Login form without a token, and with a wrong one: 403, not signed in.
    let _ = app.get("/admin/user/login").await;
    for token in [None, Some("forged")] {
        let mut form = vec![("username", "admin"), ("password", ADMIN_PASSWORD)];
        if let Some(t) = token {
            form.push(("_csrf", t));
        }
        let r = app
            .client
            .post(app.url("/admin/user/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("This form has expired or was not sent from this site")
        );
        assert_eq!(
            app.get("/admin/user").await.status(),
            StatusCode::SEE_OTHER,
            "not signed in"
        );
    }
    // Logout without a token leaves the session alive.
    app.login_as_admin().await;
    let r = app
        .client
        .post(app.url("/admin/user/logout"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/admin/user").await.status(), StatusCode::OK);
    // A token from another session is worthless here.
    let (other, _) = app.new_browser();
    let other_page = text_of(&other, app.url("/admin/user/login")).await;
    let foreign = csrf_from(&other_page).unwrap();
    let r = app
        .client
        .post(app.url("/admin/user/logout"))
        .form(&[("_csrf", foreign.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/admin/user").await.status(), StatusCode::OK);
}

async fn foreign_origin_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let (_, html) = app.get_html("/admin/user").await;
    let token = csrf_from(&html).unwrap();
    let r = app
        .client
        .post(app.url("/admin/user/logout"))
        .header("Origin", "https://evil.example")
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/admin/user").await.status(), StatusCode::OK);
    // The same request from this site's origin goes through.
    let r = app
        .client
        .post(app.url("/admin/user/logout"))
        .header("Origin", app.base.as_str())
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn session_id_rotates_at_login(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let _ = app.get("/admin/user/login").await;
    let before = app
        .session_cookie()
        .expect("anonymous session for the CSRF token");
    app.login_as_admin().await;
    let after = app.session_cookie().expect("session after login");
    assert_ne!(before, after, "the session id changes at login");
    // The pre-login id (as a fixation attacker would hold it) is not signed in.
    let (attacker, jar) = app.new_browser();
    jar.add_cookie_str(
        &format!("gatehouse_session={before}"),
        &app.base.parse().unwrap(),
    );
    let r = attacker.get(app.url("/admin/user")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Cookie attributes.
    let (fresh, _) = app.new_browser();
    let r = fresh
        .get(app.url("/admin/user/login"))
        .send()
        .await
        .unwrap();
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain http public_url: no Secure flag"
    );
}

async fn logout_ends_the_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let cookie = app.session_cookie().unwrap();
    let (_, html) = app.get_html("/admin/user").await;
    let r = app.post_form("/admin/user/logout", &html, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/user/login");
    let (_, html) = app.get_html("/admin/user/login").await;
    assert_eq!(
        texts(&html, ".flash-info"),
        vec!["You have been logged out."]
    );
    assert_eq!(app.get("/admin/user").await.status(), StatusCode::SEE_OTHER);
    // The old cookie is dead server-side too.
    let (replay, jar) = app.new_browser();
    jar.add_cookie_str(
        &format!("gatehouse_session={cookie}"),
        &app.base.parse().unwrap(),
    );
    assert_eq!(
        replay
            .get(app.url("/admin/user"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
}

async fn non_admin_is_kept_out_of_user_management(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let r = app.login("bob", "Bob-pass-123").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
    for path in [
        "/admin/user",
        "/admin/user/view/1",
        &format!("/admin/user/view/{bob}"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let (status, html) = app.get_html("/admin/user/profile/view").await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&html, "dl.info dd").contains(&"bob@example.com".to_string()));
    assert!(
        !html.contains(r#"href="/admin/user">Users"#),
        "no user management menu for a User"
    );
}

async fn login_by_email_and_next_stays_on_site(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let page = app
        .get("/admin/user/login?next=/admin/user/view/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="next" value="/admin/user/view/1""#));
    let token = csrf_from(&page).unwrap();
    let r = app
        .client
        .post(app.url("/admin/user/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "ADMIN@example.com"),
            ("password", ADMIN_PASSWORD),
            ("next", "/admin/user/view/1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/admin/user/view/1");

    let (other, _) = app.new_browser();
    let page = text_of(&other, app.url("/admin/user/login")).await;
    let token = csrf_from(&page).unwrap();
    let r = other
        .post(app.url("/admin/user/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "//evil.example/steal"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/admin/user");
}

async fn failed_logins_lock_the_account(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |s| s.security.max_failed_login_attempts = 3).await
    else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    // Three wrong passwords in parallel, each from its own browser: all counted.
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let base = app.base.clone();
        tasks.push(tokio::spawn(async move {
            let (c, _) = crate::common::new_client();
            login_with(&c, &base, "bob", "Wrong-pass-1").await.status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let html = app.login("bob", "Bob-pass-123").await.text().await.unwrap();
    assert_eq!(
        texts(&html, ".login .flash-error"),
        vec!["Your login was unsuccessful"]
    );
    app.login_as_admin().await;
    let (_, grid) = app.get_html("/admin/user?sort=username").await;
    assert!(texts(&grid, "table.datagrid tbody td").contains(&"Locked".to_string()));
    assert_eq!(
        app.scalar(
            "SELECT CAST(failed_login_count AS BIGINT) FROM users WHERE username_key = 'bob'"
        )
        .await,
        3,
        "the counter stops at the lock"
    );
}

/// One lock, one "user.locked" entry, however many failures arrive at once.
async fn one_lock_is_audited_once(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.security.max_failed_login_attempts = 5;
        s.security.throttle.failures_per_account = 1000;
        s.security.throttle.failures_per_address = 1000;
    })
    .await
    else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let base = app.base.clone();
        tasks.push(tokio::spawn(async move {
            let (c, _) = crate::common::new_client();
            login_with(&c, &base, "bob", "Wrong-pass-1").await.status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user.locked'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed'")
            .await,
        4,
        "the failures before the lock; none after it is counted"
    );
    assert_eq!(
        app.scalar(
            "SELECT CAST(failed_login_count AS BIGINT) FROM users WHERE username_key = 'bob'"
        )
        .await,
        5
    );
}

async fn health_endpoints(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), StatusCode::OK);
    app.state.db.close().await;
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "process still up"
    );
}
