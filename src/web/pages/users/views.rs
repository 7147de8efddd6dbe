//! Saving, renaming, deleting and choosing the default among one's own grid views.

use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;
use tower_sessions::Session;

use crate::error::AppResult;
use crate::state::AppState;
use crate::users::views;
use crate::web::input::Form;
use crate::web::session::{self, AdminActor, FlashKind};

#[derive(Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
}

pub async fn save(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<SaveForm>,
) -> AppResult<Redirect> {
    let result = views::save(&state, &a.actor, &f.name, &f.query).await;
    // Back to the grid through the stored (canonical, percent-encoded) state, never the
    // posted text: that could hold what no header may.
    let back = match &result {
        Ok((id, query)) if query.is_empty() => format!("/admin/user?saved={id}"),
        Ok((id, query)) => format!("/admin/user?{query}&saved={id}"),
        Err(_) => crate::users::grid::parse_query_string(&f.query)
            .map(|q| format!("/admin/user?{}", q.view_query()))
            .unwrap_or_else(|_| "/admin/user".to_owned()),
    };
    let msg = result.map(|_| format!("View \"{}\" saved.", f.name.trim()));
    session::flash_outcome(&session, msg, &back).await
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

pub async fn rename(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<RenameForm>,
) -> AppResult<Redirect> {
    let msg = views::rename(&state, &a.actor, id, &f.name)
        .await
        .map(|()| format!("View renamed to \"{}\".", f.name.trim()));
    session::flash_outcome(&session, msg, "/admin/user?view=all").await
}

pub async fn delete(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> AppResult<Redirect> {
    views::delete(&state, &a.actor, id).await?;
    session::flash(&session, FlashKind::Success, "View deleted.").await?;
    Ok(Redirect::to("/admin/user?view=all"))
}

#[derive(Deserialize)]
pub struct DefaultForm {
    clear: Option<String>,
}

pub async fn set_default(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<DefaultForm>,
) -> AppResult<Redirect> {
    let target = if f.clear.is_some() { None } else { Some(id) };
    views::set_default(&state, &a.actor, target).await?;
    let msg = if target.is_some() {
        "Default view set."
    } else {
        "Default view cleared."
    };
    session::flash(&session, FlashKind::Success, msg).await?;
    Ok(Redirect::to("/admin/user"))
}
