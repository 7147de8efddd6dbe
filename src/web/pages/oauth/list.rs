//! System > User Management > OAuth Applications: everyone's applications within the
//! administrator's reach, with filters as GET parameters and paging.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;

use crate::error::AppResult;
use crate::oauth::apps::{self as oauth_apps, AppFilter};
use crate::security::oauth_keys::KEYS_MISSING;
use crate::state::AppState;
use crate::web::input::Query;
use crate::web::session::{AdminActor, PageCtx};

use super::apps::{AppView, Choice, choices, parse_status, status_choices};

/// System > User Management > OAuth Applications: filters as GET parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub name: String,
    pub org: String,
    pub status: String,
    pub used: String,
    pub page: String,
}

const PAGE_SIZE: i64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "oauth/list.html")]
pub struct OauthAppsPage {
    pub ctx: PageCtx,
    pub keys_ok: bool,
    pub keys_message: &'static str,
    pub name: String,
    pub org_choices: Vec<Choice>,
    pub status_choices: Vec<Choice>,
    pub used_choices: Vec<Choice>,
    pub has_filters: bool,
    pub show_org: bool,
    pub rows: Vec<AppView>,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub async fn list(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> AppResult<OauthAppsPage> {
    let now = state.clock.now();
    let (never_used, used_since) = match q.used.as_str() {
        "never" => (true, None),
        "day" => (false, Some(now - 86_400)),
        "month" => (false, Some(now - 30 * 86_400)),
        _ => (false, None),
    };
    let filter = AppFilter {
        owner: None,
        name_like: oauth_apps::name_pattern(&q.name),
        organization: q.org.parse().ok(),
        active: parse_status(&q.status),
        never_used,
        used_since,
        within: None,
    };
    let page = q.page.parse::<i64>().unwrap_or(1).max(1);
    let (apps, total) =
        oauth_apps::list(&state, &a.actor, filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let orgs = crate::organizations::choices(&state, &a.actor).await?;
    let link = |p: i64| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("name", &q.name)
            .append_pair("org", &q.org)
            .append_pair("status", &q.status)
            .append_pair("used", &q.used)
            .append_pair("page", &p.to_string())
            .finish();
        format!("/admin/oauth-applications?{query}")
    };
    Ok(OauthAppsPage {
        keys_ok: state.oauth_keys.available(),
        keys_message: KEYS_MISSING,
        rows: apps.iter().map(|a| AppView::new(a, &ctx.here)).collect(),
        ctx,
        name: q.name.clone(),
        show_org: orgs.len() > 1,
        org_choices: choices(
            std::iter::once((String::new(), "All".to_owned()))
                .chain(orgs.into_iter().map(|(id, n)| (id.to_string(), n))),
            &q.org,
        ),
        status_choices: status_choices(&q.status),
        used_choices: choices(
            [
                ("", "Any time"),
                ("day", "In the last 24 hours"),
                ("month", "In the last 30 days"),
                ("never", "Never"),
            ]
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
            &q.used,
        ),
        has_filters: !(q.name.is_empty()
            && q.org.is_empty()
            && q.status.is_empty()
            && q.used.is_empty()),
        total,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page * PAGE_SIZE < total).then(|| link(page + 1)),
    })
}
