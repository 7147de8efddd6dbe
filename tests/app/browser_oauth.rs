//! Browser tests of the OAuth applications: the Add Application dialog, the one-time
//! credentials, the row menu, and the page without keys.

#[allow(unused_imports)]
use crate::browser::*;
use crate::common::Backend;
use fantoccini::Locator;

/// Types into the input that a label inside `scope` (an XPath) names.
async fn fill_within(b: &Browser, scope: &str, label: &str, value: &str) {
    let xpath = format!("{scope}//label[normalize-space()='{label}']");
    let l = b
        .client
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("{xpath}: {e}"));
    let id = l.attr("for").await.unwrap().expect("label has for");
    let input = b.client.find(Locator::Id(&id)).await.expect("input");
    input.clear().await.expect("clear");
    input.send_keys(value).await.expect("type");
}

async fn displayed(b: &Browser, css: &str) -> bool {
    match b.client.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_add_application_dialog_credentials_and_row_menu() {
    let Some((app, _keys)) = crate::oauth::spawn_oauth(Backend::Sqlite, true).await else {
        return;
    };
    let bob = app.create_plain_user("bob", "Bob-pass-123");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login_as_admin(&app).await;
    let page = format!("/admin/user/view/{bob}");
    b.client.goto(&app.url(&page)).await.unwrap();

    // "Add Application" opens the dialog on the page, with Active checked.
    assert!(!displayed(&b, "#oauth-add-dialog").await);
    b.click_xpath("//a[normalize-space()='Add Application']")
        .await;
    let dialog = "//dialog[@id='oauth-add-dialog']";
    b.wait_texts("#oauth-add-dialog[open] h2", |t| t == ["Add Application"])
        .await;
    wait_path_still(&b, &page).await;
    let active = b
        .client
        .find(Locator::Id("oauth-add-active"))
        .await
        .unwrap();
    assert_eq!(
        active.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    fill_within(&b, dialog, "Application Name", "CRM sync").await;
    b.screenshot("oauth-add-application").await;
    b.click_xpath(&format!("{dialog}//button[normalize-space()='Create']"))
        .await;

    // The one-time credentials, in a dialog, each with its copy button.
    b.wait_texts("#oauth-credentials[open] #cred-title", |t| {
        t == ["Application Created"]
    })
    .await;
    assert!(displayed(&b, "#oauth-credentials").await);
    for label in ["Copy Client ID", "Copy Client Secret"] {
        let xpath = format!("//dialog[@id='oauth-credentials']//button[@aria-label='{label}']");
        let button = b.client.find(Locator::XPath(&xpath)).await.expect(label);
        assert!(button.is_displayed().await.unwrap(), "{label}");
    }
    let client_id = b
        .client
        .find(Locator::Id("cred-client-id"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .expect("client id");
    assert_eq!(client_id.len(), 32);
    b.click_xpath("//button[@aria-label='Copy Client ID']")
        .await;
    // Copied, or (where the browser refuses clipboard access) selected for Ctrl+C.
    b.wait_texts(".copy-status", |t| {
        t.first().is_some_and(|s| s.starts_with("Client ID"))
    })
    .await;
    b.screenshot("oauth-credentials").await;
    b.click_xpath("//a[normalize-space()='Done']").await;
    wait_for_path(&b, &page).await;
    b.wait_texts(".oauth-grid tbody td:nth-child(2)", |t| {
        t == [client_id.clone()]
    })
    .await;

    // The row's More Options menu: Deactivate through its confirmation.
    let row = "//table[contains(@class,'oauth-grid')]//tr[td[normalize-space()='CRM sync']]";
    b.click_xpath(&format!("{row}//summary[@aria-label='More Options']"))
        .await;
    b.screenshot("oauth-more-options").await;
    let items = b.texts(".oauth-grid details[open] [role=menuitem]").await;
    assert_eq!(
        items,
        vec!["Edit", "Deactivate", "Regenerate Secret", "Delete"]
    );
    b.click_xpath(&format!("{row}//a[normalize-space()='Deactivate']"))
        .await;
    b.confirm_dialog(
        "Deactivate Confirmation",
        "Are you sure you want to deactivate the application?",
        "Yes, Deactivate",
    )
    .await;
    b.wait_texts(".flash-success", |t| t == ["Deactivated successfully"])
        .await;
    assert_eq!(
        b.texts(".oauth-grid tbody td:nth-child(3)").await,
        vec!["No"]
    );
    b.close().await;
}

/// The page did not navigate (a dialog opened instead).
async fn wait_path_still(b: &Browser, path: &str) {
    let url = b.client.current_url().await.expect("url");
    assert_eq!(url.path(), path, "stayed on the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_missing_keys_warning() {
    let Some((app, _keys)) = crate::oauth::spawn_oauth(Backend::Sqlite, false).await else {
        return;
    };
    let Some(b) = Browser::start().await else {
        return;
    };
    b.login_as_admin(&app).await;
    b.client
        .goto(&app.url("/admin/user/profile/view"))
        .await
        .unwrap();
    b.wait_texts(".oauth-keys-missing", |t| t == [crate::oauth::KEYS_MISSING])
        .await;
    let add = b
        .client
        .find_all(Locator::XPath("//a[normalize-space()='Add Application']"))
        .await
        .unwrap();
    assert!(add.is_empty(), "Add Application is not offered");
    b.screenshot("oauth-missing-keys").await;
    b.close().await;
}
