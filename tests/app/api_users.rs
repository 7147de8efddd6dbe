//! The JSON:API `users` resource: listing, errors with their pointers, create, update and
//! delete, and who sees what.

#[allow(unused_imports)]
use crate::api::*;
use crate::both_backends;
use crate::common::{Backend, TestApp, location, login_with, new_client, texts};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_backends!(
    listing_pages_sorts_and_filters,
    json_api_errors_point_at_the_problem,
    create_update_delete_through_the_api,
    a_user_sees_and_changes_only_themselves,
    lifecycle_rules_hold_in_the_api,
    every_documented_route_exists,
    one_key_per_organization,
);

async fn listing_pages_sorts_and_filters(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);
    for i in 1..=12 {
        let mut attrs = json!({
            "username": format!("user{i:02}"),
            "email": format!("user{i:02}@example.com"),
            "password": "Secret-pass-1",
            "lastName": format!("Last {}", 13 - i),
        });
        if i % 3 == 0 {
            attrs["enabled"] = json!(true);
        }
        let a = api
            .call(Method::POST, "/api/users", Some(user_doc(attrs)))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }

    // Uncounted by default (as in Oro): next/prev links, no count, no last link.
    let a = api.get("/api/users").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.get("meta").is_none(), "{}", a.body);
    assert!(a.body["links"].get("last").is_none());
    assert_eq!(a.total_count, None);
    let a = api.get_counted("/api/users").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["meta"]["totalCount"], 13);
    assert_eq!(a.total_count.as_deref(), Some("13"));
    let names = usernames(&a);
    assert_eq!(names.len(), 10, "default page size");
    assert_eq!(names[0], "admin", "default sort: username");
    let links = &a.body["links"];
    assert!(
        links["next"]
            .as_str()
            .unwrap()
            .contains("page%5Bnumber%5D=2")
    );
    assert!(links.get("prev").is_none());

    let a = api.get_counted("/api/users?page[number]=2").await;
    assert_eq!(usernames(&a), vec!["user10", "user11", "user12"]);
    assert!(
        a.body["links"]["prev"]
            .as_str()
            .unwrap()
            .contains("page%5Bnumber%5D=1")
    );
    assert!(a.body["links"].get("next").is_none());
    assert!(
        a.body["links"]["last"]
            .as_str()
            .unwrap()
            .contains("page%5Bnumber%5D=2")
    );

    let a = api.get("/api/users?page[size]=3&sort=-username").await;
    assert_eq!(usernames(&a), vec!["user12", "user11", "user10"]);
    assert!(
        a.body["links"]["next"]
            .as_str()
            .unwrap()
            .contains("sort=-username"),
        "links keep the query"
    );
    let a = api
        .get("/api/users?page[size]=2&sort=-enabled,lastName")
        .await;
    // Enabled first, then by last name ("Last 1" < "Last 10" < "Last 4").
    assert_eq!(usernames(&a), vec!["user12", "user03"]);

    let a = api.get("/api/users?filter[username]=USER03").await;
    assert_eq!(usernames(&a), vec!["user03"]);
    let a = api.get_counted("/api/users?filter[username]=user0").await;
    assert_eq!(a.body["meta"]["totalCount"], 0, "exact match, not contains");
    let a = api.get("/api/users?filter[email]=user04@example.com").await;
    assert_eq!(usernames(&a), vec!["user04"]);
    let a = api
        .get("/api/users?filter[enabled]=true&page[size]=100")
        .await;
    assert_eq!(
        usernames(&a),
        vec!["admin", "user03", "user06", "user09", "user12"]
    );
    let a = api.get_counted("/api/users?filter[enabled]=false").await;
    assert_eq!(
        a.body["meta"]["totalCount"], 8,
        "created disabled unless enabled is sent"
    );

    let a = api
        .get("/api/users?fields[users]=username,enabled&page[size]=1")
        .await;
    let mut attrs: Vec<&String> = a.body["data"][0]["attributes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    attrs.sort();
    assert_eq!(attrs, vec!["enabled", "username"]);

    // Only members of the caller's organization exist for the API.
    app.sql("INSERT INTO organizations (name, name_key, enabled, created_at, updated_at) VALUES ('Other', 'other', TRUE, 0, 0)").await;
    app.sql("UPDATE user_organizations SET organization_id = 2 WHERE user_id = (SELECT id FROM users WHERE username = 'user05')").await;
    let a = api.get_counted("/api/users?page[size]=100").await;
    assert_eq!(a.body["meta"]["totalCount"], 12);
    assert!(!usernames(&a).contains(&"user05".to_string()));
}

async fn json_api_errors_point_at_the_problem(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.create_plain_user("bob", "Bob-pass-123");
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);
    let param = |p: &str| json!({ "parameter": p });
    let pointer = |p: &str| json!({ "pointer": p });

    // Query parameters.
    for (query, name) in [
        ("page[size]=101", "page[size]"),
        ("page[size]=0", "page[size]"),
        ("page[number]=x", "page[number]"),
        ("sort=password", "sort"),
        ("sort=username,-nope", "sort"),
        ("filter[nickname]=x", "filter[nickname]"),
        ("filter[enabled]=maybe", "filter[enabled]"),
        ("fields[users]=password", "fields[users]"),
        ("include=organizations", "include"),
        ("page[size]=5&page[size]=6", "page[size]"),
        ("colour=blue", "colour"),
    ] {
        let a = api.get(&format!("/api/users?{query}")).await;
        assert_error(&a, 400, param(name));
    }
    assert!(
        api.get("/api/users?page[size]=101")
            .await
            .detail()
            .contains("from 1 to 100")
    );
    assert!(
        api.get("/api/users?sort=password")
            .await
            .detail()
            .contains("createdAt")
    );

    // Documents.
    let post = |body: Value| api.call(Method::POST, "/api/users", Some(body));
    let valid =
        || json!({ "username": "carol", "email": "carol@example.com", "password": "Carol-pass-1" });
    let a = api
        .raw(
            Method::POST,
            "/api/users",
            "application/json",
            &user_doc(valid()).to_string(),
        )
        .await;
    assert_error(&a, 415, json!({ "header": "Content-Type" }));
    let a = api
        .raw(Method::POST, "/api/users", "text/plain", "hello")
        .await;
    assert_error(&a, 415, json!({ "header": "Content-Type" }));
    let a = api
        .raw(Method::POST, "/api/users", JSON_API, "{\"data\": ")
        .await;
    assert_error(&a, 400, pointer(""));
    assert!(a.detail().contains("not valid JSON"));
    let a = api.raw(Method::POST, "/api/users", JSON_API, "[1]").await;
    assert_error(&a, 400, pointer(""));
    assert_error(&post(json!({ "meta": {} })).await, 400, pointer("/data"));
    assert_error(&post(json!({ "data": [] })).await, 400, pointer("/data"));
    assert_error(
        &post(json!({ "data": { "attributes": valid() } })).await,
        400,
        pointer("/data/type"),
    );
    assert_error(
        &post(json!({ "data": { "type": "accounts", "attributes": valid() } })).await,
        409,
        pointer("/data/type"),
    );
    assert_error(
        &post(json!({ "data": { "type": "users", "id": "9", "attributes": valid() } })).await,
        403,
        pointer("/data/id"),
    );
    assert_error(
        &post(json!({ "data": { "type": "users", "attributes": [] } })).await,
        400,
        pointer("/data/attributes"),
    );
    assert_error(
        &post(json!({ "data": { "type": "users", "relationships": {} } })).await,
        400,
        pointer("/data/relationships"),
    );
    let mut attrs = valid();
    attrs["nickname"] = json!("caz");
    let a = post(user_doc(attrs)).await;
    assert_error(&a, 400, pointer("/data/attributes/nickname"));
    assert!(a.detail().contains("Unknown attribute \"nickname\""));
    for (name, value) in [
        ("enabled", json!("yes")),
        ("username", json!(5)),
        ("email", json!(null)),
        ("firstName", json!(["Carol"])),
        ("password", json!(12345678)),
        ("createdAt", json!("2026-01-01T00:00:00Z")),
    ] {
        let mut attrs = valid();
        attrs[name] = value;
        let a = post(user_doc(attrs)).await;
        assert_error(&a, 400, pointer(&format!("/data/attributes/{name}")));
    }

    // Rules: 422 with a pointer per field.
    let mut attrs = valid();
    attrs["username"] = json!("BOB");
    let a = post(user_doc(attrs)).await;
    assert_error(&a, 422, pointer("/data/attributes/username"));
    assert_eq!(a.detail(), "This username is already used.");
    let mut attrs = valid();
    attrs["password"] = json!("short");
    let a = post(user_doc(attrs)).await;
    assert_error(&a, 422, pointer("/data/attributes/password"));
    assert!(a.detail().starts_with("The password must contain"));
    let a = post(user_doc(
        json!({ "email": "nope", "birthday": "31/01/1990" }),
    ))
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pointers: Vec<&str> = a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"]["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        vec![
            "/data/attributes/username",
            "/data/attributes/email",
            "/data/attributes/birthday",
            "/data/attributes/password"
        ]
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users").await,
        2,
        "nothing created"
    );

    // PATCH: the id must match, the password is not changed here.
    let patch = |body: Value| api.call(Method::PATCH, "/api/users/1", Some(body));
    let a = patch(json!({ "data": { "type": "users", "id": "2", "attributes": {} } })).await;
    assert_error(&a, 409, pointer("/data/id"));
    let a = patch(json!({ "data": { "type": "users", "attributes": {} } })).await;
    assert_error(&a, 400, pointer("/data/id"));
    let a = patch(json!({ "data": { "type": "users", "id": 1, "attributes": {} } })).await;
    assert_error(&a, 400, pointer("/data/id"));
    let a = patch(json!({ "data": { "type": "users", "id": "1", "attributes": { "password": "New-pass-123" } } }),
    )
    .await;
    assert_error(&a, 400, pointer("/data/attributes/password"));
    let a = patch(json!({ "data": { "type": "users", "id": "1", "attributes": { "email": "bob@example.com" } } }),
    )
    .await;
    assert_error(&a, 422, pointer("/data/attributes/email"));

    // Unknown resources and routes answer in JSON too.
    assert_error(&api.get("/api/users/abc").await, 404, Value::Null);
    assert_error(&api.get("/api/users/999").await, 404, Value::Null);
    assert_error(&api.get("/api/nothing").await, 404, Value::Null);
    assert_error(
        &api.get("/api/users/1?sort=username").await,
        400,
        param("sort"),
    );
}

async fn create_update_delete_through_the_api(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);

    let a = api
        .call(
            Method::POST,
            "/api/users",
            Some(user_doc(json!({
                "username": "carol",
                "email": "carol@example.com",
                "password": "Carol-pass-1",
                "firstName": "Carol",
                "lastName": "Jones",
            }))),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["data"]["id"].as_str().unwrap().to_owned();
    assert!(
        a.location.ends_with(&format!("/api/users/{id}")),
        "{}",
        a.location
    );
    assert_eq!(a.body["data"]["attributes"]["enabled"], false);
    assert_eq!(a.body["data"]["attributes"]["firstName"], "Carol");
    // Created in the caller's organization, as a User, with the password given.
    let (_, page) = app.get_html(&format!("/admin/user/view/{id}")).await;
    let info = texts(&page, "dl.info dd");
    assert!(info.contains(&"Default".to_string()) && info.contains(&"User".to_string()));
    let (c, _) = new_client();
    let html = login_with(&c, &app.base, "carol", "Carol-pass-1")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Your login was unsuccessful") && !html.contains("disabled."),
        "right password, disabled: refused like a wrong one"
    );

    let path = format!("/api/users/{id}");
    let doc = |attrs: Value| json!({ "data": { "type": "users", "id": id, "attributes": attrs } });
    let a = api
        .call(
            Method::PATCH,
            &path,
            Some(doc(
                json!({ "firstName": "Caroline", "lastName": null, "enabled": true }),
            )),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let attrs = &a.body["data"]["attributes"];
    assert_eq!(attrs["firstName"], "Caroline");
    assert_eq!(attrs["lastName"], Value::Null);
    assert_eq!(attrs["enabled"], true);
    assert_eq!(
        attrs["email"], "carol@example.com",
        "unsent attributes stay"
    );
    let r = login_with(&c, &app.base, "carol", "Carol-pass-1").await;
    assert_eq!(
        location(&r),
        "/admin/user/profile/view",
        "enabled through the API"
    );
    let (_, page) = app
        .get_html(&path.replace("/api/users/", "/admin/user/view/"))
        .await;
    let history = texts(&page, "table.compact td");
    assert!(history.contains(&"Enabled".to_string()) && history.contains(&"admin".to_string()));

    let a = api
        .call(Method::PATCH, &path, Some(doc(json!({ "enabled": false }))))
        .await;
    assert_eq!(a.body["data"]["attributes"]["enabled"], false);
    assert_eq!(
        c.get(app.url("/admin/user/profile/view"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER,
        "disabling through the API ends the user's sessions, as in the UI"
    );

    let a = api.call(Method::DELETE, &path, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(a.body, Value::Null);
    assert_error(&api.get(&path).await, 404, Value::Null);
    assert_error(
        &api.call(Method::DELETE, &path, None).await,
        404,
        Value::Null,
    );
}

async fn a_user_sees_and_changes_only_themselves(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let carol = app.create_plain_user("carol", "Carol-pass-1");
    app.login_as_admin().await;
    let key = generate_key(&app, bob).await;
    let api = Api::new(&app, "bob", &key);

    let a = api.get_counted("/api/users?page[size]=100").await;
    assert_eq!(usernames(&a), vec!["bob"]);
    assert_eq!(a.body["meta"]["totalCount"], 1);
    assert_eq!(
        api.get(&format!("/api/users/{bob}")).await.status,
        StatusCode::OK
    );
    for id in [1, carol, 999] {
        let path = format!("/api/users/{id}");
        assert_error(&api.get(&path).await, 403, Value::Null);
        let doc = json!({ "data": { "type": "users", "id": id.to_string(), "attributes": { "firstName": "X" } } });
        assert_error(
            &api.call(Method::PATCH, &path, Some(doc)).await,
            403,
            Value::Null,
        );
        assert_error(
            &api.call(Method::DELETE, &path, None).await,
            403,
            Value::Null,
        );
    }
    let me = format!("/api/users/{bob}");
    assert_error(&api.call(Method::DELETE, &me, None).await, 403, Value::Null);
    let a = api
        .call(
            Method::POST,
            "/api/users",
            Some(user_doc(json!({ "username": "dave", "email": "dave@example.com", "password": "Dave-pass-1" }))),
        )
        .await;
    assert_error(&a, 403, Value::Null);

    let doc = |attrs: Value| json!({ "data": { "type": "users", "id": bob.to_string(), "attributes": attrs } });
    let a = api
        .call(
            Method::PATCH,
            &me,
            Some(doc(json!({ "firstName": "Robert" }))),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["data"]["attributes"]["firstName"], "Robert");
    let a = api
        .call(Method::PATCH, &me, Some(doc(json!({ "enabled": false }))))
        .await;
    assert_error(&a, 422, json!({ "pointer": "/data/attributes/enabled" }));
    assert_eq!(a.detail(), "You cannot disable your own account.");
    assert_eq!(
        api.get(&me).await.body["data"]["attributes"]["enabled"],
        true
    );
}

async fn lifecycle_rules_hold_in_the_api(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let carol = app.create_plain_user("carol", "Carol-pass-1");
    let dave = app.create_plain_user("dave", "Dave-pass-123");
    app.login_as_admin().await;
    let key = generate_key(&app, 1).await;
    let api = Api::new(&app, "admin", &key);

    // Nobody disables or deletes themselves, as in the UI.
    let a = api
        .call(
            Method::PATCH,
            "/api/users/1",
            Some(json!({ "data": { "type": "users", "id": "1", "attributes": { "enabled": false } } })),
        )
        .await;
    assert_error(&a, 422, json!({ "pointer": "/data/attributes/enabled" }));
    assert_eq!(a.detail(), "You cannot disable your own account.");
    let a = api.call(Method::DELETE, "/api/users/1", None).await;
    assert_error(&a, 409, Value::Null);
    assert_eq!(
        a.detail(),
        "The delete operation is forbidden. Reason: you cannot delete your own account."
    );

    // A user who owns an OAuth application is not deleted.
    app.sql(&format!(
        "INSERT INTO oauth_applications (owner_id, organization_id, name, client_id, secret_hash, created_at, updated_at) \
         VALUES ({carol}, 1, 'CRM sync', 'cid-1', 'x', 0, 0)"
    ))
    .await;
    let a = api
        .call(Method::DELETE, &format!("/api/users/{carol}"), None)
        .await;
    assert_error(&a, 409, Value::Null);
    assert!(
        a.detail().contains("(1 OAuth application)"),
        "{}",
        a.detail()
    );
    assert_eq!(
        api.get(&format!("/api/users/{carol}")).await.status,
        StatusCode::OK
    );

    // A member of another organization does not exist for this caller.
    app.sql("INSERT INTO organizations (name, name_key, enabled, created_at, updated_at) VALUES ('Other', 'other', TRUE, 0, 0)").await;
    app.sql(&format!(
        "UPDATE user_organizations SET organization_id = 2 WHERE user_id = {dave}"
    ))
    .await;
    let path = format!("/api/users/{dave}");
    assert_error(&api.get(&path).await, 404, Value::Null);
    let doc = json!({ "data": { "type": "users", "id": dave.to_string(), "attributes": { "enabled": false } } });
    assert_error(
        &api.call(Method::PATCH, &path, Some(doc)).await,
        404,
        Value::Null,
    );
    assert_error(
        &api.call(Method::DELETE, &path, None).await,
        404,
        Value::Null,
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {dave} AND enabled = TRUE"
        ))
        .await,
        1
    );
}

async fn every_documented_route_exists(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let r = app.get("/api/doc.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let url = app.url(&path.replace("{id}", "1"));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = reqwest::Client::new()
                .request(m, &url)
                .send()
                .await
                .unwrap();
            assert!(
                !matches!(
                    r.status(),
                    StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
                ),
                "{method} {path}: {}",
                r.status()
            );
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            checked += 1;
        }
    }
    assert_eq!(checked, 5);

    // The page for people lists the same endpoints and a ready-to-paste example.
    let (status, html) = app.get_html("/api/doc").await;
    assert_eq!(status, StatusCode::OK);
    let rows = texts(&html, "table.datagrid tbody tr");
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().any(|r| r.starts_with("PATCH /api/users/{id}")));
    let example = texts(&html, "pre code").join("\n");
    assert!(example.contains("openssl sha1 -binary"));
    assert!(
        example.contains("curl -sS -g "),
        "-g: curl must not glob the brackets of page[size]"
    );
    assert!(example.contains("X-WSSE: UsernameToken Username="));
    assert!(texts(&html, "a").contains(&"OpenAPI 3 (doc.json)".to_string()));
}

/// Keys are per organization: each works in its own organization, whichever one the
/// user last worked in through the web, and the API acts in the key's organization.
async fn one_key_per_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.login_as_admin().await;
    app.post("/admin/organization", &[("name", "Acme")]).await;
    // The administrator joins Acme too.
    let (_, form) = app.get_html("/admin/user/update/1").await;
    let r = app
        .post_form(
            "/admin/user/update/1",
            &form,
            &[
                ("username", "admin"),
                ("email", "admin@example.com"),
                ("enabled", "1"),
                ("roles", "1"),
                ("roles", "2"),
                ("organizations", "1"),
                ("organizations", "2"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Acme is first by name, so the new session works there; switch to Default for a key.
    app.post("/admin/organization/switch", &[("organization", "1")])
        .await;
    let default_key = generate_key(&app, 1).await;
    app.post("/admin/organization/switch", &[("organization", "2")])
        .await;
    let (_, html) = app.get_html("/admin/user/view/1").await;
    assert_eq!(key_on_page(&html), None, "no key in Acme yet");
    let acme_key = generate_key(&app, 1).await;
    assert_ne!(default_key, acme_key);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM api_keys WHERE user_id = 1")
            .await,
        2
    );
    // Both keys work whatever the web session chose last.
    for key in [&default_key, &acme_key] {
        let api = Api::new(&app, "admin", key);
        assert_eq!(api.get("/api/users").await.status, StatusCode::OK);
    }
}
