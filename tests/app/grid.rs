//! The users grid and the user page.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp, texts};

both_backends!(
    grid_sorts_pages_and_escapes,
    grid_rejects_bad_parameters,
    user_page_shows_general_information
);

async fn grid_sorts_pages_and_escapes(backend: Backend) {
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

async fn grid_rejects_bad_parameters(backend: Backend) {
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

async fn user_page_shows_general_information(backend: Backend) {
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
        vec!["General Information", "History"]
    );
    assert!(texts(&html, "table.compact td").contains(&"User created".to_string()));
    let (status, _) = app.get_html("/admin/user/view/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_html("/admin/user/view/not-a-number").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
