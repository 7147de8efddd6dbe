//! The emails Gatehouse sends, each a plain-text and an HTML template under
//! `templates/emails/`. Functions here only render; the rules decide when to send.

use askama::Template;

use super::Email;
use crate::clock;
use crate::config::Settings;
use crate::domain::ExportId;
use crate::error::{AppError, AppResult};

/// Where someone goes to ask for a reset link themselves.
pub const RESET_REQUEST_PATH: &str = "/admin/user/reset-request";

/// The page a reset link opens.
pub fn reset_path(token: &str) -> String {
    format!("/admin/user/reset/{token}")
}

#[derive(Template)]
#[template(path = "emails/reset_password.txt")]
struct ResetText<'a> {
    username: &'a str,
    link: &'a str,
    expires: &'a str,
    valid_for: &'a str,
    by_admin: bool,
}

#[derive(Template)]
#[template(path = "emails/reset_password.html")]
struct ResetHtml<'a> {
    username: &'a str,
    link: &'a str,
    expires: &'a str,
    valid_for: &'a str,
    by_admin: bool,
}

/// The reset link email. `by_admin`: the administrator's reset, which also blocked sign-in
/// until a new password is set; otherwise the person asked for it themselves.
pub fn reset_password(
    settings: &Settings,
    to: &str,
    username: &str,
    token: &str,
    expires_at: i64,
    by_admin: bool,
) -> AppResult<Email> {
    let link = settings.public_link(&reset_path(token));
    let expires = clock::display(expires_at);
    let valid_for = human_duration(settings.security.password_reset_ttl);
    let text = ResetText {
        username,
        link: &link,
        expires: &expires,
        valid_for: &valid_for,
        by_admin,
    }
    .render()
    .map_err(render_error)?;
    let html = ResetHtml {
        username,
        link: &link,
        expires: &expires,
        valid_for: &valid_for,
        by_admin,
    }
    .render()
    .map_err(render_error)?;
    Ok(Email {
        to: to.to_owned(),
        subject: "Reset your Gatehouse password".into(),
        text,
        html: Some(html),
        template: "reset_password",
    })
}

#[derive(Template)]
#[template(path = "emails/password_changed_by_admin.txt")]
struct ChangedText<'a> {
    username: &'a str,
    admin: &'a str,
    when: &'a str,
    reset_request_link: &'a str,
}

#[derive(Template)]
#[template(path = "emails/password_changed_by_admin.html")]
struct ChangedHtml<'a> {
    username: &'a str,
    admin: &'a str,
    when: &'a str,
    reset_request_link: &'a str,
}

/// Tells a user that an administrator set a new password for them. It never carries the
/// password: an email is not a safe place for it.
pub fn password_changed_by_admin(
    settings: &Settings,
    to: &str,
    username: &str,
    admin: &str,
    at: i64,
) -> AppResult<Email> {
    let when = clock::display(at);
    let link = settings.public_link(RESET_REQUEST_PATH);
    let text = ChangedText {
        username,
        admin,
        when: &when,
        reset_request_link: &link,
    }
    .render()
    .map_err(render_error)?;
    let html = ChangedHtml {
        username,
        admin,
        when: &when,
        reset_request_link: &link,
    }
    .render()
    .map_err(render_error)?;
    Ok(Email {
        to: to.to_owned(),
        subject: "Your Gatehouse password was changed".into(),
        text,
        html: Some(html),
        template: "password_changed_by_admin",
    })
}

fn render_error(e: askama::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("email template: {e}"))
}

/// "24 hours", "90 minutes", "1 day": the largest unit that divides the span exactly, so
/// the text never rounds a configured lifetime.
pub fn human_duration(seconds: u64) -> String {
    let units = [
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    for (size, name) in units {
        if seconds >= size && seconds.is_multiple_of(size) {
            let n = seconds / size;
            // 24 hours reads better than 1 day for the default lifetime.
            if name == "day" && n == 1 {
                return "24 hours".into();
            }
            return format!("{n} {name}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{seconds} seconds")
}

#[derive(Template)]
#[template(path = "emails/export_result.txt")]
struct ExportText<'a> {
    username: &'a str,
    count: Option<i64>,
    link: &'a str,
    expires: &'a str,
    reason: &'a str,
}

#[derive(Template)]
#[template(path = "emails/export_result.html")]
struct ExportHtml<'a> {
    job: ExportId,
    username: &'a str,
    count: Option<i64>,
    link: &'a str,
    expires: &'a str,
    reason: &'a str,
}

/// "Export result for job N": the download link, or why the export failed.
/// `outcome`: Ok((users exported, expiry)) or Err(reason).
pub fn export_result(
    settings: &Settings,
    to: &str,
    username: &str,
    job: ExportId,
    outcome: Result<(i64, i64), &str>,
) -> AppResult<Email> {
    let (count, expires, reason, link) = match outcome {
        Ok((n, exp)) => (
            Some(n),
            clock::display(exp),
            "",
            settings.public_link(&format!("/admin/user/export/{job}/download")),
        ),
        Err(r) => (None, String::new(), r, settings.public_link("/admin/user")),
    };
    let text = ExportText {
        username,
        count,
        link: &link,
        expires: &expires,
        reason,
    }
    .render()
    .map_err(render_error)?;
    let html = ExportHtml {
        job,
        username,
        count,
        link: &link,
        expires: &expires,
        reason,
    }
    .render()
    .map_err(render_error)?;
    Ok(Email {
        to: to.to_owned(),
        subject: format!("Export result for job {job}"),
        text,
        html: Some(html),
        template: if count.is_some() {
            "export_finished"
        } else {
            "export_failed"
        },
    })
}

#[derive(Template)]
#[template(path = "emails/oauth_app_created.txt")]
struct AppCreatedText<'a> {
    greeting: &'a str,
    app_name: &'a str,
    organization: &'a str,
    by: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "emails/oauth_app_created.html")]
struct AppCreatedHtml<'a> {
    greeting: &'a str,
    app_name: &'a str,
    organization: &'a str,
    by: &'a str,
    link: &'a str,
}

pub const APP_CREATED_SUBJECT: &str = "OAuth application added to your account";

/// Tells an owner that an OAuth application acting as them was added, so an unexpected one
/// is noticed (the application can obtain tokens at once).
pub fn oauth_app_created(
    settings: &Settings,
    to: &str,
    greeting: &str,
    app_name: &str,
    organization: &str,
    by: &str,
) -> AppResult<Email> {
    let link = settings.public_link("/admin/user/profile/view");
    let text = AppCreatedText {
        greeting,
        app_name,
        organization,
        by,
        link: &link,
    }
    .render()
    .map_err(render_error)?;
    let html = AppCreatedHtml {
        greeting,
        app_name,
        organization,
        by,
        link: &link,
    }
    .render()
    .map_err(render_error)?;
    Ok(Email {
        to: to.to_owned(),
        subject: APP_CREATED_SUBJECT.into(),
        text,
        html: Some(html),
        template: "oauth_app_created",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(86_400), "24 hours");
        assert_eq!(human_duration(172_800), "2 days");
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(5400), "90 minutes");
        assert_eq!(human_duration(61), "61 seconds");
    }

    #[test]
    fn reset_email_has_both_parts_and_escapes_html() {
        let settings = Settings::default();
        let e = reset_password(
            &settings,
            "a@example.com",
            "<b>bob</b>",
            "ghr_abc",
            0,
            false,
        )
        .unwrap();
        assert!(
            e.text
                .contains("http://127.0.0.1:8080/admin/user/reset/ghr_abc")
        );
        assert!(
            e.text
                .contains("expires in 24 hours, on Jan 1, 1970, 00:00 UTC")
        );
        assert!(e.text.contains("If you did not ask for this"));
        assert!(e.text.contains("<b>bob</b>"), "plain text is not escaped");
        let html = e.html.unwrap();
        assert!(html.contains("&#60;b&#62;bob&#60;/b&#62;"), "{html}");
        assert!(html.contains(r#"href="http://127.0.0.1:8080/admin/user/reset/ghr_abc""#));

        let by_admin =
            reset_password(&settings, "a@example.com", "bob", "ghr_abc", 0, true).unwrap();
        assert!(by_admin.text.contains("An administrator has reset"));
        assert!(!by_admin.text.contains("If you did not ask for this"));
    }

    #[test]
    fn changed_email_links_to_the_reset_request() {
        let e = password_changed_by_admin(&Settings::default(), "a@example.com", "bob", "admin", 0)
            .unwrap();
        assert!(
            e.text
                .contains("http://127.0.0.1:8080/admin/user/reset-request")
        );
        assert!(
            e.text
                .contains("An administrator (admin) changed the password")
        );
        assert!(e.html.unwrap().contains("request a password reset"));
    }

    #[test]
    fn app_created_email_names_the_application_and_escapes_html() {
        let e = oauth_app_created(
            &Settings::default(),
            "bob@example.com",
            "Bob",
            "<b>CRM</b> sync",
            "Default",
            "admin",
        )
        .unwrap();
        assert_eq!(e.to, "bob@example.com");
        assert_eq!(e.subject, "OAuth application added to your account");
        assert!(e.text.contains("\"<b>CRM</b> sync\""));
        assert!(
            e.text
                .contains("If you did not expect this, please contact an administrator.")
        );
        assert!(
            e.text
                .contains("http://127.0.0.1:8080/admin/user/profile/view")
        );
        let html = e.html.unwrap();
        assert!(html.contains("&#60;b&#62;CRM&#60;/b&#62; sync") || html.contains("&lt;b&gt;CRM"));
        assert!(!html.contains("<b>CRM"));
    }
}
