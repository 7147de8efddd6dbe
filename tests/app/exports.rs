//! CSV export: the file parsed back and compared with the database, "Export this view",
//! who may download, expiry, and recovery of a job whose process died.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp, location, login_with, new_client, texts};

both_backends!(
    export_all_users_round_trip,
    export_this_view_honours_filters_and_sort,
    download_only_for_requester_and_admins_then_expires,
    job_of_a_dead_process_completes_once,
    user_fields_page_orders_columns,
);

/// Waits for export `id` to be downloadable and returns the CSV.
async fn wait_download(app: &TestApp, client: &reqwest::Client, id: i64) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client
            .get(app.url(&format!("/admin/user/export/{id}/download")))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::OK {
            assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
            return r.text().await.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "export {id} not ready: {}",
            r.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn parse(csv_text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn set_all_fields(app: &TestApp, fields: &[&str]) {
    let mut form: Vec<(String, String)> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        form.push(("export".into(), (*f).into()));
        form.push((format!("pos_{f}"), (i + 1).to_string()));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post("/admin/user/fields", &pairs).await;
    assert_eq!(location(&r), "/admin/user/fields");
}

async fn export_all_users_round_trip(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("plain", "Passw0rd-x");
    let tricky = app.create_plain_user("tricky", "Passw0rd-x");
    // Values no form accepts (a newline) are set directly, to test the CSV quoting.
    app.sql(&format!(
        "UPDATE users SET first_name = 'Ann, \"the\" Best', last_name = 'Line1\nLine2', \
         middle_name = 'Zoë Ωmega 東京', phone = '=HYPERLINK(\"http://x\")', name_suffix = '@risk' WHERE id = {tricky}"
    ))
    .await;
    app.login_as_admin().await;
    let fields = [
        "id",
        "username",
        "email",
        "first_name",
        "middle_name",
        "last_name",
        "name_suffix",
        "phone",
        "enabled",
        "auth_status",
        "organizations",
        "roles",
        "password_hash",
    ];
    set_all_fields(&app, &fields).await;
    // A filter in the grid does not limit "Export".
    let r = app
        .post(
            "/admin/user/export",
            &[("return", "/admin/user?username=plain")],
        )
        .await;
    assert_eq!(location(&r), "/admin/user?username=plain");
    assert_eq!(
        app.flashes().await,
        vec!["Export started successfully. You will receive email notification upon completion."]
    );
    let csv_text = wait_download(&app, &app.client, 1).await;
    let rows = parse(&csv_text);
    assert_eq!(rows[0], fields);
    assert_eq!(rows.len(), 4, "header + 3 users");
    let t = rows.iter().find(|r| r[1] == "tricky").unwrap();
    assert_eq!(t[3], "Ann, \"the\" Best");
    assert_eq!(t[4], "Zoë Ωmega 東京");
    assert_eq!(t[5], "Line1\nLine2");
    assert_eq!(t[6], "'@risk", "formula-like cells are neutralised");
    assert_eq!(t[7], "'=HYPERLINK(\"http://x\")");
    assert_eq!(
        (t[8].as_str(), t[9].as_str(), t[10].as_str(), t[11].as_str()),
        ("1", "active", "Default", "User")
    );
    // Every row equals the database, field by field; the password only as its hash.
    for r in &rows[1..] {
        let id: i64 = r[0].parse().unwrap();
        let (username, email, hash): (String, String, String) = match &app.state.db {
            gatehouse::store::Db::Sqlite(p) => {
                sqlx::query_as("SELECT username, email, password_hash FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
            gatehouse::store::Db::Postgres(p) => {
                sqlx::query_as("SELECT username, email, password_hash FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
        };
        assert_eq!((&r[1], &r[2], &r[12]), (&username, &email, &hash));
        assert!(r[12].starts_with("$argon2id$"));
    }
    assert!(!csv_text.contains("Passw0rd-x"));
    // The grid lists the export and its state.
    let (_, grid) = app.get_html("/admin/user").await;
    assert_eq!(
        texts(&grid, ".recent-exports td.export-state"),
        vec!["Done, 3 users"]
    );
}

async fn export_this_view_honours_filters_and_sort(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (u, last) in [("sam", "Young"), ("sal", "Adams"), ("bob", "Brown")] {
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
    app.post(
        "/admin/user/export",
        &[(
            "view_query",
            "username=sa&username_op=starts&sort=lastName&dir=asc",
        )],
    )
    .await;
    let rows = parse(&wait_download(&app, &app.client, 1).await);
    let names: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names, vec!["sal", "sam"], "filtered, sorted by last name");
    let (_, grid) = app.get_html("/admin/user").await;
    assert_eq!(
        texts(&grid, ".recent-exports td:nth-child(2)"),
        vec!["This view"]
    );
    // A broken view is refused at once, with nothing queued.
    let r = app
        .post("/admin/user/export", &[("view_query", "sort=secret")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn download_only_for_requester_and_admins_then_expires(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    app.post("/admin/user/export", &[]).await;
    wait_download(&app, &app.client, 1).await;
    // A User cannot, even with the link; an anonymous visitor is sent to log in.
    let (bob, _) = new_client();
    login_with(&bob, &app.base, "bob", "Bob-pass-123").await;
    let r = bob
        .get(app.url("/admin/user/export/1/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (anon, _) = new_client();
    let r = anon
        .get(app.url("/admin/user/export/1/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Another administrator can.
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
    let (root, _) = new_client();
    login_with(&root, &app.base, "root", "Root-pass-1").await;
    wait_download(&app, &root, 1).await;
    assert_eq!(
        app.get("/admin/user/export/999/download").await.status(),
        StatusCode::NOT_FOUND
    );
    // After the retention period the link answers "expired" and the file is removed.
    app.state.clock.advance(15 * 86_400);
    // Two weeks outlive the session too (`security.session_lifetime`).
    assert_eq!(
        app.get("/admin/user/export/1/download").await.status(),
        StatusCode::SEE_OTHER
    );
    app.login_as_admin().await;
    let r = app.get("/admin/user/export/1/download").await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("This export has expired"));
    let dir = app.state.settings.export.dir.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0) > 0 {
        assert!(
            Instant::now() < deadline,
            "expired file removed by the worker"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn job_of_a_dead_process_completes_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for i in 0..5 {
        app.create_plain_user(&format!("u{i}"), "Passw0rd-x");
    }
    // A job claimed by a process that died mid-export: its lease runs 60 s, and it left a
    // partial file behind.
    let now = app.state.clock.now();
    app.sql(&format!(
        "INSERT INTO export_jobs (requested_by, query, fields, status, attempts, claimed_until, created_at, started_at) \
         VALUES (1, NULL, 'id,username', 'running', 1, {}, {now}, {now})",
        now + 60
    ))
    .await;
    std::fs::create_dir_all(&app.state.settings.export.dir).unwrap();
    std::fs::write(
        app.state.settings.export.dir.join("export-1-dead.csv.part"),
        "id,username\n2,u0\n",
    )
    .unwrap();
    app.login_as_admin().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = app.get("/admin/user/export/1/download").await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "still held by the dead process's lease"
    );
    // Once the lease has run out, a live worker takes it over and writes it whole.
    app.state.clock.advance(61);
    let rows = parse(&wait_download(&app, &app.client, 1).await);
    assert_eq!(rows.len(), 7, "header + 6 users, none twice");
    let mut ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    let attempts: i32 = match &app.state.db {
        gatehouse::store::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT attempts FROM export_jobs WHERE id = 1")
                .fetch_one(p)
                .await
                .unwrap()
        }
        gatehouse::store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT attempts FROM export_jobs WHERE id = 1")
                .fetch_one(p)
                .await
                .unwrap()
        }
    };
    assert_eq!(attempts, 2, "claimed once more, by one worker");
}

async fn user_fields_page_orders_columns(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let (status, html) = app.get_html("/admin/user/fields").await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&html, "code").contains(&"password_hash".to_string()));
    set_all_fields(&app, &["email", "username"]).await;
    assert_eq!(app.flashes().await, vec!["Exported fields saved."]);
    app.post("/admin/user/export", &[]).await;
    let rows = parse(&wait_download(&app, &app.client, 1).await);
    assert_eq!(rows[0], vec!["email", "username"]);
    assert_eq!(rows[1], vec!["admin@example.com", "admin"]);
    // Nothing chosen, or an unknown field: refused, nothing changes.
    let r = app.post("/admin/user/fields", &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose at least one field to export.")
    );
    let r = app
        .post("/admin/user/fields", &[("export", "shoe_size")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, html) = app.get_html("/admin/user/fields").await;
    let checked: Vec<String> = texts(&html, "tr:has(input[type=checkbox][checked]) code");
    assert_eq!(checked, vec!["email", "username"]);
}
