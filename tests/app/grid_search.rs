//! The users grid at scale: page size, the count cap, deep paging, and the search indexes.

use crate::both_backends;
use crate::common::{Backend, TestApp, texts};
#[allow(unused_imports)]
use crate::grid::*;
use reqwest::StatusCode;

both_backends!(
    grid_page_stays_small,
    counts_stop_at_the_cap,
    paging_a_large_set_never_repeats_or_skips,
    email_search_through_a_cheaper_part_finds_the_same_users,
    a_search_for_few_users_keeps_one_plan,
    search_follows_changed_and_deleted_keys,
    grid_shows_views_organizations_and_latest_exports,
);

async fn grid_page_stays_small(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for i in 0..30 {
        let name = format!("user-with-a-long-name-{i:02}");
        let out = app.create_user(&[
            "--username",
            &name,
            "--email",
            &format!("{name}@example-company.test"),
            "--password",
            "Passw0rd-x",
            "--first-name",
            "Maximilian-Alexander",
            "--last-name",
            "Featherstonehaugh-Smythe",
        ]);
        assert!(out.status.success());
    }
    app.login_as_admin().await;
    let (_, html) = app.get_html("/admin/user?size=25").await;
    assert_eq!(texts(&html, "table.datagrid tbody tr").len(), 25);
    assert!(
        html.len() < 60 * 1024,
        "25-row grid page is {} bytes",
        html.len()
    );
}

async fn counts_stop_at_the_cap(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // 1,001 more users (1,002 with the administrator), made in one statement.
    app.insert_users(1001, "'bulk' || x", "'bulk' || x || '@example.com'")
        .await;
    app.login_as_admin().await;
    let (_, html) = app.get_html("/admin/user").await;
    assert_eq!(
        texts(&html, ".grid-count"),
        vec!["1000+ users, showing 1–25 Count all"]
    );
    assert_eq!(
        texts(&html, "label[for=all-matching]"),
        vec!["Select all 1000+ matching users"]
    );
    // Paging goes on past the counted pages while pages are full.
    let (_, html) = app.get_html("/admin/user?page=40").await;
    assert_eq!(texts(&html, "table.datagrid tbody tr").len(), 25);
    assert!(html.contains("rel=\"next\""));
    // "Count all" counts them all, on the same page, and paging keeps the exact count.
    let doc = scraper::Html::parse_document(&html);
    let count_all = doc
        .select(&scraper::Selector::parse("a.count-all").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("a Count all link")
        .to_owned();
    assert!(count_all.contains("count=all") && count_all.contains("page=40"));
    let (_, html) = app.get_html(&count_all).await;
    assert_eq!(
        texts(&html, ".grid-count"),
        vec!["1002 users, showing 976–1000"]
    );
    assert!(html.contains("page=41") && html.contains("count=all"));
    let (status, _) = app.get_html("/admin/user?count=some").await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    // A narrower filter is counted exactly, with no link.
    let (_, html) = app
        .get_html("/admin/user?username=bulk100&username_op=starts")
        .await;
    assert_eq!(texts(&html, ".grid-count"), vec!["3 users, showing 1–3"]);
}

/// Above `users::grid::FEW_MATCHES` the grid pages the filtered set in SQL (deferred join, no
/// id list): every sort, both directions, on keys full of ties and NULLs, must still list
/// each matching user exactly once across pages, in the order the sort asks for.
async fn paging_a_large_set_never_repeats_or_skips(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // 700 users: three last names and NULLs, enabled on two of three, logins on some,
    // created in five batches of equal timestamps.
    app.sql(
        "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < 700) \
         INSERT INTO users (username, username_key, email, email_key, last_name, enabled, \
             last_login_at, password_hash, created_at, updated_at) \
         SELECT 'bulk' || x, 'bulk' || x, 'bulk' || x || '@example.com', 'bulk' || x || '@example.com', \
             CASE x % 4 WHEN 0 THEN 'Smith' WHEN 1 THEN 'Jones' WHEN 2 THEN 'Brown' END, \
             x % 3 <> 0, CASE WHEN x % 7 = 0 THEN 1000 + x % 2 END, 'x', x % 5, 0 FROM seq",
    )
    .await;
    app.login_as_admin().await;
    let bulk = "username=bulk&username_op=starts";
    let (_, html) = app.get_html(&format!("/admin/user?{bulk}")).await;
    assert_eq!(
        texts(&html, ".grid-count"),
        vec!["700 users, showing 1–25"],
        "a large set is counted exactly below the cap"
    );
    // A "contains" search first reads up to `FEW_MATCHES` ids; this one matches more, so
    // its pages past them (offset 500 and on) must come from the whole set, not be empty.
    let searched = "username=ulk";
    // 111 users (bulk1, bulk10 to 19, bulk100 to 199): few enough to be read once and
    // then sorted and paged from what was read.
    let few = "username=ulk1";
    let sorts = [
        (bulk, "username", 700),
        (bulk, "email", 700),
        (bulk, "lastName", 700),
        (bulk, "enabled", 700),
        (bulk, "lastLogin", 700),
        (bulk, "createdAt", 700),
        (searched, "username", 700),
        (searched, "lastName", 700),
        (few, "lastName", 111),
        (few, "lastLogin", 111),
    ];
    for (filter, sort, total) in sorts {
        for dir in ["asc", "desc"] {
            let mut seen = Vec::new();
            for page in 1..=total / 100 + 1 {
                let rows = app
                    .grid_usernames(&format!("{filter}&sort={sort}&dir={dir}&page={page}"))
                    .await;
                assert_eq!(
                    rows.len(),
                    100.min(total - 100 * (page - 1)),
                    "{filter} {sort} {dir} page {page}"
                );
                seen.extend(rows);
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                total,
                "{filter} {sort} {dir}: a row repeated or skipped"
            );
            if sort == "lastName" {
                // Ties stay together and the names come in order (NULLs at one end).
                let names: Vec<i64> = seen
                    .iter()
                    .map(|u| u.trim_start_matches("bulk").parse::<i64>().unwrap() % 4)
                    .collect();
                let changes = names.windows(2).filter(|w| w[0] != w[1]).count();
                assert_eq!(changes, 3, "{dir}: each last name in one run");
            }
        }
    }
}

/// When the key sample says few users hold a search term (`query::Frequency::Rare`), the
/// statement hides the term from PostgreSQL's planner so that it keeps one plan for every
/// such search instead of planning each one. It must find what the same search planned
/// for its term finds, on both backends.
async fn a_search_for_few_users_keeps_one_plan(backend: Backend) {
    use gatehouse::domain::query::{
        Frequency, Lookup, SortColumn, TextField, TextFilter, TextOp, UserFilter,
    };
    use gatehouse::store::{
        Db,
        users::{self, Counting, Listing},
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.insert_bench_like_users(2000).await;
    // One connection: PostgreSQL's plan cache is per connection.
    let db = Db::connect(&app.db.url, 1).await.expect("connect");
    let search = |frequency| UserFilter {
        text: vec![TextFilter {
            field: TextField::Email,
            op: TextOp::Contains,
            value: "user00012".into(),
            lookup: Lookup {
                part: Some("00012".into()),
                frequency,
            },
        }],
        ..UserFilter::default()
    };
    let expected: Vec<String> = (1200..1225).map(|x| format!("u{x}")).collect();
    for frequency in [Frequency::Moderate, Frequency::Rare] {
        let filter = search(frequency);
        let listing = Listing {
            filter: &filter,
            sort: SortColumn::Username,
            desc: false,
            limit: 25,
            offset: 0,
            counting: Counting::FewFirst(501),
        };
        // PostgreSQL plans a statement's first five runs for their values either way.
        for run in 0..8 {
            let page = users::grid_page(&db, &listing).await.expect("page");
            let names: Vec<String> = page.rows.into_iter().map(|(u, _)| u.username).collect();
            assert_eq!(names, expected, "{frequency:?}, run {run}");
            assert_eq!(page.matched, Some(100), "{frequency:?}, run {run}");
        }
    }
    if let Db::Postgres(pool) = &db {
        // (On a table this small PostgreSQL may keep a plan for the other statement too;
        // on a million users it plans each search: BENCHMARKS.md.)
        let generic: i64 = sqlx::query_scalar(
            "SELECT generic_plans FROM pg_prepared_statements \
             WHERE statement LIKE 'WITH m AS MATERIALIZED%(SELECT $1)%'",
        )
        .fetch_one(pool)
        .await
        .expect("the statement with hidden patterns");
        assert_eq!(generic, 3, "one plan kept for every run after the fifth");
    }
}

/// The grid looks up only the cheapest part of an email "contains" term in the search
/// index, or none for a common term (`users::probe`); the users found must be those the
/// whole term finds.
async fn email_search_through_a_cheaper_part_finds_the_same_users(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.insert_bench_like_users(2000).await;
    app.login_as_admin().await;
    {
        use gatehouse::domain::query::Frequency;
        use gatehouse::users::probe;
        // Fewer users than a sample's size: the sample is all of them.
        let sample = gatehouse::store::users::key_sample(&app.state.db, 5000)
            .await
            .unwrap();
        let sample = probe::KeySample::new(&sample);
        let rare = probe::lookup("user0001999", &sample);
        assert!(
            rare.part
                .as_deref()
                .is_some_and(|p| p.len() < 11 && "user0001999".contains(p)),
            "the index looks up a part: {rare:?}"
        );
        assert_eq!(rare.frequency, Frequency::Rare);
        assert_eq!(probe::lookup("199", &sample).frequency, Frequency::Moderate);
        assert_eq!(
            probe::lookup("example.com", &sample).frequency,
            Frequency::Common
        );
    }
    assert_eq!(app.grid_usernames("email=user0001999").await, vec!["u1999"]);
    let found = app.grid_usernames("email=user00012").await;
    let expected: Vec<String> = (1200..1300).map(|x| format!("u{x}")).collect();
    let mut sorted = found.clone();
    sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(sorted, expected_sorted);
    // A term across a non-word character: only "0012" or "example" can be looked up.
    assert_eq!(
        app.grid_usernames("email=0012%40example").await,
        vec!["u12"]
    );
    // Typed in capitals, and with a LIKE wildcard that must match itself.
    assert_eq!(app.grid_usernames("email=USER0001999").await, vec!["u1999"]);
    assert!(app.grid_usernames("email=user_0001").await.is_empty());
    // Three characters: no 4-gram, PostgreSQL looks up the trigram.
    let mut found = app.grid_usernames("email=199").await;
    found.sort();
    let mut expected: Vec<String> = [199, 1199]
        .into_iter()
        .chain(1990..=1999)
        .map(|x| format!("u{x}"))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    // In every email: the index is not asked, users are read in the page's order.
    let page = app.grid_usernames("email=example.com").await;
    assert_eq!(page.len(), 100);
    assert_eq!(page[..3], ["admin", "u1", "u10"]);
}

/// "Contains" on the keys is served by an index (on PostgreSQL the `user_search` table's,
/// on SQLite an FTS5 table, both kept by triggers): a changed email is found by its new value and not its old one, a deleted
/// user not at all, and nothing typed is read as index query syntax.
async fn search_follows_changed_and_deleted_keys(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.insert_users(30, "'member' || x", "'member' || x || '@old.example'")
        .await;
    app.login_as_admin().await;
    assert_eq!(app.grid_usernames("email=old.exam").await.len(), 30);
    app.sql(
        "UPDATE users SET email = 'member7@new.example', email_key = 'member7@new.example' \
         WHERE username_key = 'member7'",
    )
    .await;
    app.sql("DELETE FROM users WHERE username_key = 'member8'")
        .await;
    assert_eq!(app.grid_usernames("email=new.exam").await, vec!["member7"]);
    let old = app.grid_usernames("email=old.exam").await;
    assert_eq!(old.len(), 28, "member7 moved and member8 deleted: {old:?}");
    assert!(!old.iter().any(|u| u == "member7" || u == "member8"));
    assert_eq!(
        app.grid_usernames("username=ember8").await,
        Vec::<String>::new()
    );
    // A new username is found by four characters and by three (PostgreSQL's 4-gram and
    // trigram indexes); writes that leave the keys alone change nothing.
    app.sql(
        "UPDATE users SET username = 'Renamed9', username_key = 'renamed9' \
         WHERE username_key = 'member9'",
    )
    .await;
    app.sql(
        "UPDATE users SET enabled = FALSE, username_key = username_key \
         WHERE username_key <> 'admin'",
    )
    .await;
    assert_eq!(app.grid_usernames("username=amed").await, vec!["Renamed9"]);
    assert_eq!(app.grid_usernames("username=ren").await, vec!["Renamed9"]);
    assert!(app.grid_usernames("username=member9").await.is_empty());
    // Search syntax of the indexes, typed: matched as text (nothing has it), not parsed.
    for term in [
        "%22member%22",
        "member1%22%20OR%20%22x",
        "NEAR(member1)",
        "mem*",
        "mem%5Cber",
        "%7Bmember%2C1%7D",
    ] {
        assert_eq!(
            app.grid_usernames(&format!("email={term}")).await,
            Vec::<String>::new(),
            "{term}"
        );
    }
    assert_eq!(
        app.grid_usernames("username=member3&username_op=contains")
            .await,
        vec!["member3", "member30"]
    );
    // PostgreSQL's index holds the 4-grams its SQL function finds; a search looks up those
    // the grid finds: they must be the same, whatever the characters.
    if let gatehouse::store::Db::Postgres(pool) = &app.state.db {
        for s in ["ümlaut-ñame@例え.jp", r#"q"u\o{t,e}"#, "abcd", "abc"] {
            let mut indexed: Vec<String> = sqlx::query_scalar("SELECT gatehouse_4grams($1)")
                .bind(s)
                .fetch_one(pool)
                .await
                .expect("4-grams");
            indexed.sort();
            assert_eq!(
                indexed,
                gatehouse::store::users::filter::four_grams(s),
                "{s}"
            );
        }
    }
}

/// Beside its rows the grid shows the administrator's saved views (by name, the default
/// marked), every organization as the filter's choices (by name) and their five latest
/// exports, newest first; another administrator's views and exports are not theirs.
async fn grid_shows_views_organizations_and_latest_exports(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let out = app.create_user(&[
        "--username",
        "other",
        "--email",
        "other@example.com",
        "--password",
        "Passw0rd-x",
    ]);
    assert!(out.status.success());
    app.sql(
        "INSERT INTO organizations (name, name_key, enabled, created_at, updated_at) \
         VALUES ('Zeta Ltd', 'zeta ltd', TRUE, 0, 0), ('acme', 'acme', TRUE, 0, 0)",
    )
    .await;
    app.sql(
        "INSERT INTO grid_views (owner_id, name, query, is_default, created_at) VALUES \
         (1, 'Locked ones', 'status=locked', TRUE, 0), (1, 'By email', 'sort=email', FALSE, 0), \
         (2, 'Not mine', 'view=active', FALSE, 0)",
    )
    .await;
    // Seven finished jobs of the administrator (odd ones done, even ones failed), one of
    // the other user's; none pending, so the export worker leaves them alone.
    app.sql(
        "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < 8) \
         INSERT INTO export_jobs (requested_by, fields, status, rows_written, error, \
             created_at, expires_at) \
         SELECT CASE WHEN x = 8 THEN 2 ELSE 1 END, 'username', \
             CASE WHEN x % 2 = 1 THEN 'done' ELSE 'failed' END, x, \
             CASE WHEN x % 2 = 0 THEN 'disk full ' || x END, x, 4102444800 FROM seq",
    )
    .await;
    app.login_as_admin().await;
    let (status, html) = app.get_html("/admin/user?view=all").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        texts(&html, ".recent-exports td.export-state"),
        vec![
            "Done, 7 users",
            "Failed: disk full 6",
            "Done, 5 users",
            "Failed: disk full 4",
            "Done, 3 users"
        ]
    );
    assert_eq!(
        texts(&html, "a.view-tab.saved"),
        vec!["By email", "Locked ones (default)"]
    );
    let orgs = texts(&html, "#f-org option");
    let at = |name: &str| orgs.iter().position(|o| o == name);
    assert!(
        at("acme").is_some() && at("acme") < at("Zeta Ltd"),
        "organizations by name: {orgs:?}"
    );
}
