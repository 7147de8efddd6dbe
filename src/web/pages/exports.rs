//! "Export" and "Export this view" on the users grid, the download link, and the
//! "User fields" page that chooses and orders the exported columns.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::config::EXPORTABLE_FIELDS;
use crate::domain::ExportId;
use crate::error::{AppError, AppResult};
use crate::exports::{self, Download};
use crate::state::AppState;
use crate::web::input::Form;
use crate::web::pages::users::lifecycle::back_to;
use crate::web::session::{self, AdminActor, FlashKind, PageCtx, UserActor};

pub async fn start(
    a: AdminActor,
    State(state): State<AppState>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Redirect> {
    let view = fields
        .iter()
        .find(|(k, _)| k == "view_query")
        .map(|(_, v)| v.as_str());
    exports::request(&state, &a.actor, view).await?;
    session::flash(
        &session,
        FlashKind::Success,
        "Export started successfully. You will receive email notification upon completion.",
    )
    .await?;
    Ok(Redirect::to(&back_to(&fields, "/admin/user".into())))
}

pub async fn download(
    UserActor { actor, .. }: UserActor,
    State(state): State<AppState>,
    Path(id): Path<ExportId>,
) -> AppResult<Response> {
    match exports::download(&state, &actor, id).await? {
        Download::File { path, name } => {
            let file = match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(expired(&state)),
                Err(e) => return Err(AppError::Internal(e.into())),
            };
            let len = file
                .metadata()
                .await
                .map_err(|e| AppError::Internal(e.into()))?
                .len();
            let body =
                Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (header::CONTENT_LENGTH, len.to_string()),
                    (header::CACHE_CONTROL, "private, no-store".to_owned()),
                ],
                body,
            )
                .into_response())
        }
        Download::Expired => Ok(expired(&state)),
        Download::NotReady(status) => Err(AppError::Conflict(format!(
            "This export is not ready to download (it is {status})."
        ))),
    }
}

fn expired(state: &AppState) -> Response {
    let days = state.settings.export.retention_days;
    let mut r = AppError::Conflict(format!(
        "This export has expired: export files are kept for {days} days. Start a new export from the users grid."
    ))
    .into_response();
    *r.status_mut() = StatusCode::GONE;
    r
}

pub struct FieldChoice {
    pub name: &'static str,
    pub checked: bool,
    pub position: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "users/fields.html")]
pub struct FieldsPage {
    pub ctx: PageCtx,
    pub fields: Vec<FieldChoice>,
    pub error: Option<String>,
}

async fn fields_page(
    state: &AppState,
    ctx: PageCtx,
    error: Option<String>,
) -> AppResult<FieldsPage> {
    let chosen = exports::fields(state).await?;
    let mut fields: Vec<FieldChoice> = EXPORTABLE_FIELDS
        .iter()
        .map(|f| {
            let pos = chosen.iter().position(|c| c == f);
            FieldChoice {
                name: f,
                checked: pos.is_some(),
                position: pos.map_or(chosen.len() + 1, |p| p + 1),
            }
        })
        .collect();
    fields.sort_by_key(|f| (!f.checked, f.position));
    Ok(FieldsPage { ctx, fields, error })
}

pub async fn fields_form(
    _a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
) -> AppResult<FieldsPage> {
    fields_page(&state, ctx, None).await
}

/// The form posts `export=<field>` for each checked field and `pos_<field>=<n>` for order.
pub async fn save_fields(
    a: AdminActor,
    ctx: PageCtx,
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut chosen: Vec<(u32, String)> = Vec::new();
    for (k, v) in &form {
        if k == "export" {
            let pos = form
                .iter()
                .find(|(pk, _)| pk == &format!("pos_{v}"))
                .and_then(|(_, p)| p.trim().parse::<u32>().ok())
                .unwrap_or(u32::MAX);
            chosen.push((pos, v.clone()));
        }
    }
    chosen.sort_by_key(|(p, _)| *p);
    let names: Vec<String> = chosen.into_iter().map(|(_, n)| n).collect();
    match exports::set_fields(&state, &a.actor, &names).await {
        Ok(()) => {
            session::flash(&session, FlashKind::Success, "Exported fields saved.").await?;
            Ok(Redirect::to("/admin/user/fields").into_response())
        }
        Err(AppError::Validation(errs)) => {
            let msg = errs
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" ");
            let page = fields_page(&state, ctx, Some(msg)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
