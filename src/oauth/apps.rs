//! OAuth applications: a user's client credentials for the API. Each use case checks who
//! may act (an administrator, or the owner on their own applications), changes one
//! application in one transaction with its audit entry. `verify_bearer` turns an access
//! token back into the user and organization it acts as.

use crate::access::Actor;
use crate::access::authority::managed_user;
use crate::domain::audit::AuditAction;
use crate::domain::oauth::{AppName, ClientSecret, generate_client_id};
use crate::domain::{FieldError, OrganizationId, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::{self, templates};
use crate::oauth::token::{AccessClaims, client_allowed};
use crate::security::oauth_keys::KEYS_MISSING;
use crate::state::AppState;
use crate::store::oauth::{self as oauth_apps, NewApp};
use crate::store::organizations::{self, OrganizationRow};
use crate::store::users::{self, UserRow};
use crate::store::{Tx, audit};

pub use crate::domain::AppId;
pub use crate::store::oauth::{AppFilter, AppRow};

fn forbidden() -> AppError {
    AppError::Forbidden("You can only manage your own OAuth applications.".into())
}

/// The owner, when the actor may manage their applications: an owner manages their own;
/// an administrator those of the users they manage (others are "not found").
async fn check_owner(state: &AppState, actor: &Actor, owner: UserId) -> AppResult<UserRow> {
    if actor.user_id != Some(owner) && !actor.authority.is_admin() {
        return Err(forbidden());
    }
    Ok(managed_user(state, actor, owner).await?.user)
}

/// What the create form sends, parsed except for the organization, which is checked
/// against the owner's organizations.
#[derive(Debug, Clone)]
pub struct AppInput {
    pub name: String,
    pub active: bool,
    /// Required only when the owner works in several organizations.
    pub organization: Option<OrganizationId>,
}

/// A new application with its secret, to be shown once and then forgotten.
#[derive(Debug)]
pub struct Credentials {
    pub app: AppRow,
    pub secret: ClientSecret,
}

/// The application, if the actor may manage it: its owner is theirs to manage, and (for
/// an administrator) so is its organization.
pub async fn find(state: &AppState, actor: &Actor, id: AppId) -> AppResult<AppRow> {
    let app = oauth_apps::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    check_owner(state, actor, app.owner_id).await?;
    if actor.user_id != Some(app.owner_id)
        && !actor.authority.manages_organization(app.organization_id)
    {
        return Err(AppError::NotFound);
    }
    Ok(app)
}

/// A page of the applications matching `filter`, and how many match in all. Anyone but an
/// administrator sees only their own, whatever the filter says; an administrator those
/// within their reach.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    mut filter: AppFilter,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<AppRow>, i64)> {
    match actor.authority.scope() {
        None => {
            let me = actor.user_id.ok_or_else(forbidden)?;
            if filter.owner.is_some_and(|o| o != me) {
                return Err(forbidden());
            }
            filter.owner = Some(me);
        }
        Some(scope) => filter.within = scope.restriction(),
    }
    let rows = oauth_apps::list(&state.db, &filter, limit, offset).await?;
    let total = oauth_apps::count(&state.db, &filter).await?;
    Ok((rows, total))
}

/// A case-insensitive "contains" pattern for `AppFilter::name_like`.
pub fn name_pattern(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| {
        format!(
            "%{}%",
            crate::store::users::filter::like_escape(&t.to_lowercase())
        )
    })
}

/// The owner, and the organizations a new application of theirs may belong to, when the
/// caller may add one now.
async fn prepare_new(
    state: &AppState,
    actor: &Actor,
    owner_id: UserId,
) -> AppResult<(UserRow, Vec<(OrganizationId, String)>)> {
    let owner = check_owner(state, actor, owner_id).await?;
    // An application made now could get no token; the pages do not offer it either.
    if !state.oauth_keys.available() {
        return Err(AppError::Conflict(KEYS_MISSING.into()));
    }
    let orgs = crate::organizations::workable(state, owner_id).await?;
    Ok((owner, orgs))
}

/// For the Add Application form: the owner's enabled organizations.
pub async fn new_app_organizations(
    state: &AppState,
    actor: &Actor,
    owner_id: UserId,
) -> AppResult<Vec<(OrganizationId, String)>> {
    Ok(prepare_new(state, actor, owner_id).await?.1)
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    owner_id: UserId,
    input: &AppInput,
) -> AppResult<Credentials> {
    let (owner, orgs) = prepare_new(state, actor, owner_id).await?;
    let mut errors = Vec::new();
    let name = AppName::parse(&input.name).map_err(|e| errors.push(e)).ok();
    let org = match (input.organization, orgs.as_slice()) {
        (_, []) => {
            errors.push(FieldError::new(
                "organization",
                "The user belongs to no enabled organization to add the application to.",
            ));
            None
        }
        (None, [only]) => Some(only.clone()),
        (None, _) => {
            errors.push(FieldError::new(
                "organization",
                "This value should not be blank.",
            ));
            None
        }
        (Some(id), _) => {
            let found = orgs.iter().find(|(o, _)| *o == id).cloned();
            if found.is_none() {
                errors.push(FieldError::new("organization", "This value is not valid."));
            }
            found
        }
    };
    let (Some(name), Some((org_id, org_name))) = (name, org) else {
        return Err(AppError::Validation(errors));
    };

    let client_id = generate_client_id();
    let secret = ClientSecret::generate();
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    // A clash of two 190-bit random ids is not a case worth a retry loop.
    let id = oauth_apps::insert(
        &mut tx,
        &NewApp {
            owner_id,
            organization_id: org_id,
            name: name.as_str(),
            client_id: &client_id,
            secret_hash: &secret.hash(),
            active: input.active,
        },
        now,
    )
    .await?;
    let details = format!(
        "owner: {}; organization: {org_name}; client id: {client_id}; active: {}",
        owner.username, input.active
    );
    audit::record(
        &mut tx,
        &actor.entry(
            AuditAction::OauthAppCreated,
            id,
            name.as_str(),
            Some(&details),
            now,
        ),
    )
    .await?;
    notify_app_created(&mut tx, state, &owner, name.as_str(), &org_name, actor).await?;
    let app = oauth_apps::find_tx(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Credentials { app, secret })
}

/// Tells the owner that an application was added to their account. Called inside the
/// creation transaction, so the email exists exactly when the application does.
async fn notify_app_created(
    tx: &mut Tx,
    state: &AppState,
    owner: &UserRow,
    app_name: &str,
    org_name: &str,
    by: &Actor,
) -> AppResult<()> {
    let greeting = owner.first_name.as_deref().unwrap_or(&owner.username);
    let email = templates::oauth_app_created(
        &state.settings,
        &owner.email,
        greeting,
        app_name,
        org_name,
        &by.name,
    )?;
    mail::enqueue(tx, &email, state.clock.now()).await?;
    Ok(())
}

/// Edit: the name and whether it is active.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: AppId,
    name: &str,
    active: bool,
) -> AppResult<AppRow> {
    let app = find(state, actor, id).await?;
    let name = AppName::parse(name)?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    if !oauth_apps::update(&mut tx, id, name.as_str(), active, now).await? {
        return Err(AppError::NotFound);
    }
    let details = format!(
        "name: {} -> {}; active: {} -> {active}",
        app.name,
        name.as_str(),
        app.active
    );
    audit::record(
        &mut tx,
        &actor.entry(
            AuditAction::OauthAppUpdated,
            id,
            name.as_str(),
            Some(&details),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(app)
}

/// Activate or Deactivate; already being in that state is not an error (nothing is
/// written then).
pub async fn set_active(
    state: &AppState,
    actor: &Actor,
    id: AppId,
    active: bool,
) -> AppResult<AppRow> {
    let app = find(state, actor, id).await?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    if oauth_apps::set_active(&mut tx, id, active, now).await? {
        let action = if active {
            AuditAction::OauthAppActivated
        } else {
            AuditAction::OauthAppDeactivated
        };
        audit::record(&mut tx, &actor.entry(action, id, &app.name, None, now)).await?;
    }
    tx.commit().await?;
    Ok(app)
}

pub async fn delete(state: &AppState, actor: &Actor, id: AppId) -> AppResult<AppRow> {
    let app = find(state, actor, id).await?;
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    if !oauth_apps::delete(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let details = format!(
        "owner: {}; client id: {}",
        app.owner_username, app.client_id
    );
    audit::record(
        &mut tx,
        &actor.entry(
            AuditAction::OauthAppDeleted,
            id,
            &app.name,
            Some(&details),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(app)
}

/// Replaces the secret; the old one stops working at once. Tokens already issued stay
/// valid until they expire, as in OroPlatform.
pub async fn regenerate_secret(
    state: &AppState,
    actor: &Actor,
    id: AppId,
) -> AppResult<Credentials> {
    let app = find(state, actor, id).await?;
    let secret = ClientSecret::generate();
    let now = state.clock.now();
    let mut tx = state.begin().await?;
    if !oauth_apps::set_secret_hash(&mut tx, id, &secret.hash(), now).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &actor.entry(
            AuditAction::OauthAppSecretRegenerated,
            id,
            &app.name,
            None,
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Credentials { app, secret })
}

/// Who an API request with a valid access token acts as.
#[derive(Debug, Clone)]
pub struct BearerCaller {
    /// The application's owner, as loaded now.
    pub user: crate::users::UserSummary,
    /// The organization the application belongs to: the request works within it.
    pub organization: OrganizationRow,
    /// What the owner may manage now.
    pub authority: crate::access::Authority,
    pub app_id: AppId,
    pub client_id: String,
}

/// Checks an access token from `Authorization: Bearer`: the RS256 signature with the
/// configured public key, the issuer, the audience, the validity period by the
/// application's clock, and then, because a token outlives the state it was issued in,
/// that its client may still be used (active, owner enabled and active, organization
/// enabled, owner still a member). Every failure is `Unauthorized`; the reason is logged.
pub async fn verify_bearer(state: &AppState, token: &str) -> AppResult<BearerCaller> {
    let refuse = |why: &str| {
        tracing::debug!(reason = why, "bearer token refused");
        AppError::Unauthorized
    };
    let keys = state
        .oauth_keys
        .current()
        .ok_or_else(|| refuse("keys unavailable"))?;
    let issuer = state.settings.server.public_url.to_string();
    let claims: AccessClaims = keys
        .verify(token, &issuer)
        .map_err(|_| refuse("bad signature or claims"))?;
    let now = state.clock.now();
    if now >= claims.exp || now < claims.nbf {
        return Err(refuse("expired or not yet valid"));
    }
    if claims.aud != claims.sub {
        return Err(refuse("audience"));
    }
    let client = oauth_apps::find_client(&state.db, &claims.sub)
        .await?
        .ok_or_else(|| refuse("unknown client"))?;
    if !client_allowed(&client)
        || client.owner_id != claims.uid
        || client.organization_id != claims.org
    {
        return Err(refuse("client may not be used"));
    }
    let owner = users::find_with_organizations(&state.db, client.owner_id)
        .await?
        .ok_or_else(|| refuse("owner gone"))?;
    let authority = crate::access::authority::of_user(owner.user.is_admin, &owner.organizations);
    let user = owner.user.into();
    let organization = organizations::find(&state.db, client.organization_id)
        .await?
        .ok_or_else(|| refuse("organization gone"))?;
    Ok(BearerCaller {
        user,
        organization,
        authority,
        app_id: client.id,
        client_id: client.client_id,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn name_pattern_escapes_wildcards() {
        assert_eq!(super::name_pattern("  "), None);
        assert_eq!(
            super::name_pattern("CRM_1%").as_deref(),
            Some("%crm\\_1\\%%")
        );
    }
}
