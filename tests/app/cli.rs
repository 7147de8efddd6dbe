//! The command line: configuration errors, `migrate`, `user create`, and the bootstrap
//! administrator announced by `serve`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{
    Backend, ScratchDb, TestApp, cli_command, location, login_with, new_client, run_cli,
};

both_backends!(
    user_create_and_duplicates,
    bootstrap_admin_with_generated_password,
    bootstrap_admin_from_env
);

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn user_create_and_duplicates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let out = app.create_user(&[
        "--username",
        "Carol",
        "--email",
        "carol@example.com",
        "--password",
        "Carol-pass-1",
        "--first-name",
        "Carol",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id: i64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("prints the id");
    assert!(id > 1);

    // Same username in another case, and same email in another case: exit 1, clear message.
    let out = app.create_user(&[
        "--username",
        "CAROL",
        "--email",
        "other@example.com",
        "--password",
        "Carol-pass-1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("username: This username is already used."),
        "{}",
        stderr(&out)
    );
    let out = app.create_user(&[
        "--username",
        "carol2",
        "--email",
        "CAROL@example.com",
        "--password",
        "Carol-pass-1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("email: This email is already used."),
        "{}",
        stderr(&out)
    );

    // Invalid input, every problem reported at once; weak password names what is missing.
    let out = app.create_user(&[
        "--username",
        "a b",
        "--email",
        "nope",
        "--password",
        "Carol-pass-1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("username:")
            && err.contains("email: This value is not a valid email address."),
        "{err}"
    );
    let out = app.create_user(&[
        "--username",
        "dave",
        "--email",
        "dave@example.com",
        "--password",
        "short",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(
        "The password must contain at least 8 characters, an upper-case letter and a number."
    ));
    let out = app.create_user(&[
        "--username",
        "dave",
        "--email",
        "dave@example.com",
        "--password",
        "Dave-pass-1",
        "--organization",
        "Nowhere",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("organization \"Nowhere\" does not exist"));

    // --password-stdin, --admin: the new administrator can sign in and reach the grid.
    let out = run_cli(
        &app.db.url,
        &[
            "user",
            "create",
            "--username",
            "erin",
            "--email",
            "erin@example.com",
            "--password-stdin",
            "--admin",
        ],
        Some("Erin-pass-1\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (client, _) = new_client();
    let r = login_with(&client, &app.base, "erin", "Erin-pass-1").await;
    assert_eq!(location(&r), "/admin/user");

    // Nothing was written by the failed attempts.
    app.login_as_admin().await;
    let (_, html) = app.get_html("/admin/user").await;
    let users = crate::common::texts(&html, "table.datagrid tbody td:nth-child(2)");
    assert_eq!(users, vec!["admin", "Carol", "erin"]);
}

/// Starts `gatehouse serve` on a random port; returns the child, its stdout lines up to the
/// "Log in at" line, and the base URL.
fn serve(db: &ScratchDb, env: &[(&str, &str)]) -> (Child, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = cli_command(&db.url, dir.path());
    cmd.arg("serve")
        .env("GATEHOUSE_SERVER__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn serve");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut base = String::new();
    while Instant::now() < deadline {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end().to_owned();
        if let Some(addr) = line.strip_prefix("Gatehouse is listening on ") {
            base = addr.to_owned();
        }
        let done = line.starts_with("Log in at ");
        lines.push(line);
        if done {
            break;
        }
    }
    assert!(!base.is_empty(), "serve announced its address: {lines:?}");
    (child, lines, base)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn bootstrap_admin_with_generated_password(backend: Backend) {
    let Some(db) = ScratchDb::create(backend).await else {
        return;
    };
    let (child, lines, base) = serve(&db, &[]);
    let password = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Password: "))
        .expect("generated password printed")
        .to_owned();
    assert!(
        lines.iter().any(|l| l.trim() == "Username: admin"),
        "{lines:?}"
    );
    assert!(password.len() >= 16);
    let (client, _) = new_client();
    let r = login_with(&client, &base, "admin", &password).await;
    assert_eq!(location(&r), "/admin/user");
    assert_eq!(
        client
            .get(format!("{base}/admin/user"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    stop(child);

    // Never again once a user exists.
    let (child, lines, _) = serve(&db, &[]);
    assert!(!lines.iter().any(|l| l.contains("Password:")), "{lines:?}");
    stop(child);
}

async fn bootstrap_admin_from_env(backend: Backend) {
    let Some(db) = ScratchDb::create(backend).await else {
        return;
    };
    let (child, lines, base) = serve(
        &db,
        &[
            ("GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD", "Chosen-pass-1"),
            ("GATEHOUSE_BOOTSTRAP_ADMIN_USERNAME", "root"),
        ],
    );
    assert!(
        lines.iter().any(|l| l.trim() == "Username: root"),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("Chosen-pass-1")),
        "the chosen password is not echoed"
    );
    let (client, _) = new_client();
    let r = login_with(&client, &base, "root", "Chosen-pass-1").await;
    assert_eq!(location(&r), "/admin/user");
    stop(child);
}

#[test]
fn config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("x.db").display());
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = cli_command(&db, dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(args).output().unwrap()
    };
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("GATEHOUSE_SERVER__LISTEN", "not-an-address")],
            "`server.listen`",
        ),
        (
            &[("GATEHOUSE_SERVER__COLOUR", "blue")],
            "`server.colour`: unknown field",
        ),
        (
            &[("GATEHOUSE_SECURITY__MAX_FAILED_LOGIN_ATTEMPTS", "many")],
            "`security.max_failed_login_attempts`",
        ),
        (
            &[("GATEHOUSE_DATABASE__URL", "mysql://x")],
            "`database.url`",
        ),
    ];
    for (env, expected) in cases {
        let out = run(env, &["migrate"]);
        assert_eq!(out.status.code(), Some(2), "{env:?}");
        assert!(stderr(&out).contains(expected), "{env:?}: {}", stderr(&out));
    }

    // A config file with an unknown nested key and an unknown export field.
    let file = dir.path().join("bad.yml");
    std::fs::write(&file, "security:\n  password:\n    min_lenght: 12\n").unwrap();
    let out = run(&[], &["--config", file.to_str().unwrap(), "migrate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`security.password.min_lenght`: unknown field"),
        "{}",
        stderr(&out)
    );
    std::fs::write(&file, "export:\n  fields: [username, shoe_size]\n").unwrap();
    let out = run(&[], &["--config", file.to_str().unwrap(), "migrate"]);
    assert!(
        stderr(&out).contains("`export.fields`: unknown field \"shoe_size\""),
        "{}",
        stderr(&out)
    );
    let out = run(&[], &["--config", "/nonexistent/gatehouse.yml", "migrate"]);
    assert!(stderr(&out).contains("does not exist"));
    let out = run(&[("GATEHOUSE_CONFIG", "/nonexistent/g.yml")], &["migrate"]);
    assert!(stderr(&out).contains("does not exist"));
}

#[test]
fn database_url_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let file_db = dir.path().join("from_file.db");
    let env_db = dir.path().join("from_database_url.db");
    let gh_db = dir.path().join("from_gatehouse.db");
    let cfg = dir.path().join("c.yml");
    std::fs::write(
        &cfg,
        format!("database:\n  url: sqlite://{}\n", file_db.display()),
    )
    .unwrap();
    let migrate = |extra: &[(&str, String)]| {
        let mut cmd = std::process::Command::new(crate::common::binary());
        cmd.env_clear().current_dir(dir.path()).args([
            "--config",
            cfg.to_str().unwrap(),
            "migrate",
        ]);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    migrate(&[]);
    assert!(file_db.exists());
    migrate(&[("DATABASE_URL", format!("sqlite://{}", env_db.display()))]);
    assert!(env_db.exists(), "DATABASE_URL wins over config.yml");
    migrate(&[
        ("DATABASE_URL", format!("sqlite://{}", env_db.display())),
        (
            "GATEHOUSE_DATABASE__URL",
            format!("sqlite://{}", gh_db.display()),
        ),
    ]);
    assert!(
        gh_db.exists(),
        "GATEHOUSE_DATABASE__URL wins over DATABASE_URL"
    );
}

/// Both backends must list the same migration steps, in the same order.
#[test]
fn migrations_match_across_backends() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}
