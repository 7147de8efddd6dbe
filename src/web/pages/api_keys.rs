//! "Generate Key" on a user's page (`POST /admin/user/apigen/{id}`, Oro's
//! `oro_user_apigen`): an administrator for anyone, any user for themselves.

use axum::extract::{Path, State};
use axum::response::Redirect;
use tower_sessions::Session;

use crate::access::Actor;
use crate::api_keys::{self, StoredKey};
use crate::domain::{OrganizationId, UserId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::input::Form;
use crate::web::pages::users::lifecycle::back_to;
use crate::web::session::{self, CurrentOrg, FlashKind, UserActor};

/// The "API Key" field of a user page.
pub struct ApiKeyField {
    /// The key in clear, as Oro shows it; None when there is none to show.
    pub key: Option<String>,
    /// What to show instead of a key.
    pub missing: &'static str,
    /// The page to come back to after "Generate Key".
    pub return_to: String,
}

impl ApiKeyField {
    pub async fn load(
        state: &AppState,
        actor: &Actor,
        user: UserId,
        org: Option<OrganizationId>,
        return_to: String,
    ) -> AppResult<Self> {
        let (key, missing) = match api_keys::key_of(state, actor, user, org).await?.key {
            StoredKey::Key(k) => (Some(k.expose().to_owned()), ""),
            StoredKey::Missing => (None, "No key yet"),
            StoredKey::Unreadable => (
                None,
                "The stored key cannot be decrypted (the encryption key changed); generate a new one.",
            ),
        };
        Ok(Self {
            key,
            missing,
            return_to,
        })
    }
}

pub async fn generate(
    UserActor { user: me, actor }: UserActor,
    CurrentOrg(org): CurrentOrg,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Redirect> {
    api_keys::generate(&state, &actor, id, org).await?;
    session::flash(
        &session,
        FlashKind::Success,
        "API key generated. Any previous key of this user no longer works.",
    )
    .await?;
    let fallback = if me.id == id {
        "/admin/user/profile/view".to_owned()
    } else {
        format!("/admin/user/view/{id}")
    };
    Ok(Redirect::to(&back_to(&fields, fallback)))
}
