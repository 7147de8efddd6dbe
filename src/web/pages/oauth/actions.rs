//! The row actions on an OAuth application: Activate, Deactivate, Delete and Regenerate
//! Secret, each with its confirmation page (the dialogs' no-JavaScript form).

use axum::extract::{Path, State};
use axum::response::Redirect;
use tower_sessions::Session;

use crate::error::AppResult;
use crate::oauth::apps::{self as oauth_apps, AppId};
use crate::state::AppState;
use crate::web::input::Query;
use crate::web::pages::oauth::credentials::hand_over;
use crate::web::pages::users::lifecycle::ConfirmPage;
use crate::web::session::{self, FlashKind, PageCtx, UserActor};

use super::apps::{Back, encode};

pub async fn activate(
    u: UserActor,
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<Redirect> {
    let app = oauth_apps::set_active(&state, &u.actor, id, true).await?;
    session::flash(&session, FlashKind::Success, "Activated successfully").await?;
    Ok(Redirect::to(&back.or_owner(&u, app.owner_id)))
}

/// The confirmations' no-JavaScript pages: (title, question, OK button).
const DEACTIVATE: (&str, &str, &str) = (
    "Deactivate Confirmation",
    "Are you sure you want to deactivate the application?",
    "Yes, Deactivate",
);
const DELETE: (&str, &str, &str) = (
    "Deletion Confirmation",
    "Are you sure you want to delete the application?",
    "Yes, Delete",
);
const REGENERATE: (&str, &str, &str) = (
    "Regenerate Secret",
    "The current client secret stops working at once and a new one is shown. Continue?",
    "Regenerate",
);

async fn confirm(
    state: &AppState,
    u: &UserActor,
    ctx: PageCtx,
    id: AppId,
    back: Back,
    verb: &str,
    (title, text, ok): (&str, &str, &str),
) -> AppResult<ConfirmPage> {
    let app = oauth_apps::find(state, &u.actor, id).await?;
    let back = back.or_owner(u, app.owner_id);
    Ok(ConfirmPage {
        ctx,
        title: title.into(),
        text: format!("{text} ({})", app.name),
        action: format!(
            "/admin/oauth-applications/{id}/{verb}?return={}",
            encode(&back)
        ),
        hidden: Vec::new(),
        ok: ok.into(),
        cancel: back,
    })
}

pub async fn deactivate_confirm(
    u: UserActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<ConfirmPage> {
    confirm(&state, &u, ctx, id, back, "deactivate", DEACTIVATE).await
}

pub async fn deactivate(
    u: UserActor,
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<Redirect> {
    let app = oauth_apps::set_active(&state, &u.actor, id, false).await?;
    session::flash(&session, FlashKind::Success, "Deactivated successfully").await?;
    Ok(Redirect::to(&back.or_owner(&u, app.owner_id)))
}

pub async fn delete_confirm(
    u: UserActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<ConfirmPage> {
    confirm(&state, &u, ctx, id, back, "delete", DELETE).await
}

pub async fn delete(
    u: UserActor,
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<Redirect> {
    let app = oauth_apps::delete(&state, &u.actor, id).await?;
    session::flash(&session, FlashKind::Success, "Deleted successfully").await?;
    Ok(Redirect::to(&back.or_owner(&u, app.owner_id)))
}

pub async fn regenerate_confirm(
    u: UserActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<ConfirmPage> {
    confirm(&state, &u, ctx, id, back, "regenerate", REGENERATE).await
}

pub async fn regenerate(
    u: UserActor,
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<AppId>,
    Query(back): Query<Back>,
) -> AppResult<Redirect> {
    let c = oauth_apps::regenerate_secret(&state, &u.actor, id).await?;
    let done = back.or_owner(&u, c.app.owner_id);
    hand_over(
        &state,
        &session,
        u.user.id,
        "Client Secret Regenerated",
        &c,
        done,
    )
    .await
}
