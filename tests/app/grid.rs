//! The users grid and the user page.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp, location, text_of, texts};

both_backends!(
    grid_sorts_pages_and_escapes,
    grid_rejects_bad_parameters,
    user_page_shows_general_information,
    filters_combine_and_views_select,
    saved_views_round_trip,
    create_user_form_errors_then_success,
    edit_user_form,
);

pub(crate) async fn grid_sorts_pages_and_escapes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (u, last) in [
        ("zed", "Adams"),
        ("amy", "Young"),
        ("Mia", "<script>alert(1)</script>"),
    ] {
        let out = app.create_user(&[
            "--username",
            u,
            "--email",
            &format!("{u}@example.com"),
            "--password",
            "Passw0rd-x",
            "--last-name",
            last,
        ]);
        assert!(out.status.success());
    }
    app.login_as_admin().await;
    let col = |html: &str, n: usize| {
        texts(
            html,
            &format!("table.datagrid tbody td:nth-child({})", n + 1),
        )
    };

    let (status, html) = app.get_html("/admin/user").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        col(&html, 1),
        vec!["admin", "amy", "Mia", "zed"],
        "username ascending, case-insensitive"
    );
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || html.contains("&lt;script&gt;")
    );
    assert!(!html.contains("<script>alert(1)"));

    let (_, html) = app.get_html("/admin/user?sort=username&dir=desc").await;
    assert_eq!(col(&html, 1), vec!["zed", "Mia", "amy", "admin"]);
    // Users without a last name sort after those with one, in both directions.
    let (_, html) = app.get_html("/admin/user?sort=lastName&dir=asc").await;
    assert_eq!(col(&html, 1), vec!["Mia", "zed", "amy", "admin"]);

    // Paging with a tie-break: pages of 10 over 23 users never repeat or skip anyone.
    for i in 0..19 {
        let u = format!("user{i:02}");
        app.create_plain_user(&u, "Passw0rd-x");
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (_, html) = app
            .get_html(&format!("/admin/user?sort=enabled&page={page}&size=10"))
            .await;
        seen.extend(col(&html, 1));
        if page == 1 {
            assert!(texts(&html, ".grid-count")[0].starts_with("23 users, showing 1"));
        }
    }
    assert_eq!(seen.len(), 23);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 23, "no row twice across pages");

    // Past the last page: an empty state, not an error.
    let (status, html) = app.get_html("/admin/user?page=99").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&html, ".empty"), vec!["No users found."]);
}

pub(crate) async fn grid_rejects_bad_parameters(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    for (q, msg) in [
        (
            "sort=password_hash",
            "The grid cannot be sorted by \"password_hash\".",
        ),
        (
            "sort=username%3B%20DROP%20TABLE%20users",
            "The grid cannot be sorted by",
        ),
        ("dir=sideways", "Unknown sort direction"),
        ("page=0", "is not a positive whole number"),
        ("page=abc", "is not a positive whole number"),
        ("size=1000", "is not one of 10, 25, 50, 100"),
    ] {
        let (status, html) = app.get_html(&format!("/admin/user?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert!(
            html.contains(&msg.replace('"', "&#34;")) || html.contains(msg),
            "{q}: {html}"
        );
    }
    let (status, _) = app.get_html("/admin/user").await;
    assert_eq!(status, StatusCode::OK, "users table intact");
}

pub(crate) async fn user_page_shows_general_information(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let (status, html) = app.get_html(&format!("/admin/user/view/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let info = texts(&html, "dl.info dd");
    for expected in [
        "bob",
        "bob@example.com",
        "Enabled",
        "Active",
        "User",
        "Default",
        "Never",
    ] {
        assert!(
            info.contains(&expected.to_string()),
            "{expected} in {info:?}"
        );
    }
    assert_eq!(
        texts(&html, "section h2"),
        vec!["General Information", "OAuth Applications", "History"]
    );
    assert!(texts(&html, "table.compact td").contains(&"User created".to_string()));
    let (status, _) = app.get_html("/admin/user/view/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_html("/admin/user/view/not-a-number").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

pub(crate) async fn filters_combine_and_views_select(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |s| s.security.max_failed_login_attempts = 1).await
    else {
        return;
    };
    for (u, email, first, last) in [
        ("alice", "alice@acme.test", "Alice", "Smith"),
        ("alfred", "alfred@other.test", "Alfred", "Smithers"),
        ("bert", "bert@acme.test", "Bert", "Jones"),
        ("percent", "100%_sure@acme.test", "Per", "Cent"),
    ] {
        let out = app.create_user(&[
            "--username",
            u,
            "--email",
            email,
            "--password",
            "Passw0rd-x",
            "--first-name",
            first,
            "--last-name",
            last,
        ]);
        assert!(out.status.success());
    }
    app.login_as_admin().await;
    let g = |q: &'static str| app.grid_usernames(q);
    assert_eq!(g("username=al").await, vec!["alfred", "alice"]);
    assert_eq!(
        g("username=AL&username_op=starts").await,
        vec!["alfred", "alice"]
    );
    assert_eq!(g("username=alice&username_op=is").await, vec!["alice"]);
    assert_eq!(
        g("username=lic&username_op=starts").await,
        Vec::<String>::new()
    );
    assert_eq!(
        g("email=acme.test&username=al").await,
        vec!["alice"],
        "filters combine with AND"
    );
    assert_eq!(g("last_name=smith&last_name_op=is").await, vec!["alice"]);
    assert_eq!(
        g("first_name=al&first_name_op=starts&sort=lastName&dir=desc").await,
        vec!["alfred", "alice"]
    );
    // LIKE wildcards typed by the user match themselves.
    assert_eq!(g("email=%25_").await, vec!["percent"]);
    assert_eq!(g("email=_").await, vec!["percent"]);
    assert_eq!(g("org=1").await.len(), 5);
    assert_eq!(g("org=999").await, Vec::<String>::new());

    // States: bert disabled, alfred locked (one failed login locks here).
    let bert = 4;
    app.post(&format!("/admin/user/disable/{bert}"), &[]).await;
    let (c, _) = crate::common::new_client();
    crate::common::login_with(&c, &app.base, "alfred", "wrong").await;
    assert_eq!(g("view=active").await, vec!["admin", "alice", "percent"]);
    assert_eq!(g("view=disabled").await, vec!["bert"]);
    assert_eq!(g("view=cannot_login").await, vec!["alfred", "bert"]);
    assert_eq!(g("status=locked").await, vec!["alfred"]);
    assert_eq!(g("enabled=0").await, vec!["bert"]);
    assert_eq!(g("enabled=1&view=cannot_login").await, vec!["alfred"]);

    // Date ranges: everyone was created today (by the server's clock), nobody yesterday.
    let today = time::OffsetDateTime::from_unix_timestamp(app.state.clock.now())
        .unwrap()
        .date();
    let yesterday = today.previous_day().unwrap();
    let q = format!("created_from={today}&created_to={today}");
    let (_, html) = app.get_html(&format!("/admin/user?{q}")).await;
    assert_eq!(texts(&html, ".grid-count")[0], "5 users, showing 1–5");
    let (_, html) = app
        .get_html(&format!("/admin/user?created_to={yesterday}"))
        .await;
    assert_eq!(texts(&html, ".empty"), vec!["No users found."]);
    let (_, html) = app
        .get_html(&format!("/admin/user?last_login_from={today}"))
        .await;
    assert_eq!(
        texts(&html, "table.datagrid tbody td:nth-child(2)"),
        vec!["admin"],
        "only admin has logged in"
    );

    // The views are one click away, and the current one is marked.
    let (_, html) = app.get_html("/admin/user?view=disabled").await;
    assert_eq!(
        texts(&html, ".views a.view-tab"),
        vec![
            "All Users",
            "Active Users",
            "Disabled Users",
            "Cannot Login"
        ]
    );
    assert_eq!(
        texts(&html, ".views a[aria-current=page]"),
        vec!["Disabled Users"]
    );
    // Sorting and paging links keep the filters.
    assert!(
        html.contains("view=disabled&#38;sort=email")
            || html.contains("view=disabled&amp;sort=email")
    );
}

pub(crate) async fn saved_views_round_trip(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("zoe", "Passw0rd-x");
    app.create_plain_user("yann", "Passw0rd-x");
    app.login_as_admin().await;
    let r = app
        .post(
            "/admin/user/views",
            &[
                ("name", "Z people"),
                ("query", "username=z&sort=email&dir=desc"),
            ],
        )
        .await;
    let target = location(&r);
    assert!(
        target.starts_with("/admin/user?username=z&sort=email&dir=desc&saved="),
        "{target}"
    );
    let (_, html) = app.get_html(&target).await;
    assert!(texts(&html, ".flash-success").contains(&"View \"Z people\" saved.".to_string()));
    assert_eq!(
        texts(&html, ".views a[aria-current=page]"),
        vec!["Z people"]
    );
    assert_eq!(
        texts(&html, "table.datagrid tbody td:nth-child(2)"),
        vec!["zoe"]
    );

    // Same name twice: refused with a message; a bad grid state cannot be saved.
    app.post("/admin/user/views", &[("name", "Z people"), ("query", "")])
        .await;
    assert_eq!(
        app.flashes().await,
        vec!["You already have a view with this name."]
    );
    let r = app
        .post(
            "/admin/user/views",
            &[("name", "Broken"), ("query", "sort=password")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let id: i64 = target.rsplit('=').next().unwrap().parse().unwrap();
    app.post(
        &format!("/admin/user/views/{id}/rename"),
        &[("name", "Zed people")],
    )
    .await;
    assert_eq!(app.flashes().await, vec!["View renamed to \"Zed people\"."]);
    // Default: a bare /admin/user opens it; "All Users" still shows everyone.
    app.post(&format!("/admin/user/views/{id}/default"), &[])
        .await;
    let r = app.get("/admin/user").await;
    assert_eq!(
        location(&r),
        format!("/admin/user?username=z&sort=email&dir=desc&saved={id}")
    );
    assert_eq!(
        app.grid_usernames("view=all").await,
        vec!["admin", "yann", "zoe"]
    );
    // Another administrator does not see it, and cannot touch it.
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
    let (other, _) = crate::common::new_client();
    crate::common::login_with(&other, &app.base, "root", "Root-pass-1").await;
    let html = text_of(&other, app.url("/admin/user")).await;
    assert!(!html.contains("Zed people"));
    let token = crate::common::csrf_from(&html).unwrap();
    let r = other
        .post(app.url(&format!("/admin/user/views/{id}/delete")))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    app.post(&format!("/admin/user/views/{id}/delete"), &[])
        .await;
    assert_eq!(app.flashes().await, vec!["View deleted."]);
    assert_eq!(
        app.get("/admin/user").await.status(),
        StatusCode::OK,
        "no default any more"
    );
}

pub(crate) async fn create_user_form_errors_then_success(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("taken", "Passw0rd-x");
    app.login_as_admin().await;
    let (status, form) = app.get_html("/admin/user/create").await;
    assert_eq!(status, StatusCode::OK);
    let bad = [
        ("username", "TAKEN"),
        ("email", "not-an-email"),
        ("first_name", "\"'><img src=x onerror=alert(1)>"),
        ("birthday", "2999-01-01"),
        ("password", "weak"),
        ("enabled", "1"),
        ("roles", "2"),
        ("organizations", "1"),
    ];
    let r = app.post_form("/admin/user/create", &form, &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#e-email"),
        vec!["This value is not a valid email address."]
    );
    assert_eq!(
        texts(&html, "#e-birthday"),
        vec!["The birthday must be between 1900 and today."]
    );
    assert_eq!(
        texts(&html, "#e-password"),
        vec!["The password must contain at least 8 characters, an upper-case letter and a number."]
    );
    // Entered values are kept, escaped.
    assert!(html.contains(r#"value="TAKEN""#));
    assert!(!html.contains("<img src=x"));
    assert!(
        html.contains("&#34;&#39;&#62;&#60;img src=x onerror=alert(1)&#62;")
            || html.contains("&quot;&#39;&gt;&lt;img")
    );

    // Valid input except the duplicate username (case-insensitive): a field error, not a 500.
    let mut fixed = bad.to_vec();
    fixed[1] = ("email", "new@example.com");
    fixed[3] = ("birthday", "1990-04-23");
    fixed[4] = ("password", "Strong-pass-1");
    let r = app.post_form("/admin/user/create", &html, &fixed).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#e-username"),
        vec!["This username is already used."]
    );

    fixed[0] = ("username", "newbie");
    let r = app.post_form("/admin/user/create", &html, &fixed).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let view = location(&r);
    let (_, page) = app.get_html(&view).await;
    assert!(texts(&page, ".flash-success").contains(&"User saved.".to_string()));
    assert!(texts(&page, "dl.info dd").contains(&"new@example.com".to_string()));
    assert!(!page.contains("<img src=x"));
    assert!(texts(&page, "table.compact td").contains(&"User created".to_string()));
    let (c, _) = crate::common::new_client();
    let r = crate::common::login_with(&c, &app.base, "newbie", "Strong-pass-1").await;
    assert_eq!(location(&r), "/admin/user/profile/view");
}

pub(crate) async fn edit_user_form(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    app.create_plain_user("carol", "Carol-pass-1");
    app.login_as_admin().await;
    let (status, form) = app.get_html(&format!("/admin/user/update/{bob}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(r#"value="bob@example.com""#));
    let fields = |email: &'static str| {
        vec![
            ("username", "robert"),
            ("email", email),
            ("name_prefix", "Dr."),
            ("first_name", "Robert"),
            ("last_name", "Builder"),
            ("phone", "+1 555 0100"),
            ("enabled", "1"),
            ("roles", "1"),
            ("roles", "2"),
            ("organizations", "1"),
        ]
    };
    let r = app
        .post_form(
            &format!("/admin/user/update/{bob}"),
            &form,
            &fields("CAROL@example.com"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        texts(&html, "#e-email"),
        vec!["This email is already used."]
    );
    let r = app
        .post_form(
            &format!("/admin/user/update/{bob}"),
            &html,
            &fields("robert@example.com"),
        )
        .await;
    assert_eq!(location(&r), format!("/admin/user/view/{bob}"));
    let (_, page) = app.get_html(&format!("/admin/user/view/{bob}")).await;
    let info = texts(&page, "dl.info dd");
    assert!(
        info.contains(&"robert".to_string()) && info.contains(&"Administrator, User".to_string()),
        "{info:?}"
    );
    assert_eq!(texts(&page, "h1"), vec!["Dr. Robert Builder"]);
    assert!(texts(&page, "table.compact td").contains(&"User updated".to_string()));

    // An administrator cannot take away their own Administrator role or disable themselves.
    let (_, form) = app.get_html("/admin/user/update/1").await;
    let r = app
        .post_form(
            "/admin/user/update/1",
            &form,
            &[
                ("username", "admin"),
                ("email", "admin@example.com"),
                ("roles", "2"),
                ("organizations", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("You cannot remove your own Administrator role."));
    assert!(html.contains("You cannot disable your own account."));
    // No roles, no organizations: field errors.
    let r = app
        .post_form(
            &format!("/admin/user/update/{bob}"),
            &html,
            &[("username", "robert"), ("email", "robert@example.com")],
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Choose at least one role.")
            && html.contains("Choose at least one organization.")
    );
    assert_eq!(
        app.get("/admin/user/update/999999").await.status(),
        StatusCode::NOT_FOUND
    );
}
