//! Creating users and reading them for display.

use super::Actor;
use crate::domain::{
    Email, FieldError, OrganizationId, PersonName, PlainPassword, UserId, Username,
};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{self, audit, organizations, users};

pub struct NewUserInput {
    pub username: Username,
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub password: PlainPassword,
    pub admin: bool,
    pub enabled: bool,
    /// Empty means the default organization.
    pub organizations: Vec<OrganizationId>,
}

/// Creates a user with its roles and memberships, in one transaction with its audit entry.
/// A taken username or email is a field error, found before or at the insert (the unique
/// index settles races).
pub async fn create(state: &AppState, actor: &Actor, input: NewUserInput) -> AppResult<UserId> {
    state
        .settings
        .security
        .password
        .check("password", &input.password)?;
    let hash = state.hashing.hash(&input.password).await?;
    let now = state.clock.now();
    let (username_key, email_key) = (input.username.key(), input.email.key());

    let mut tx = state.db.begin().await?;
    let mut errors = Vec::new();
    if users::key_taken(&mut tx, false, &username_key).await? {
        errors.push(FieldError::new(
            "username",
            "This username is already used.",
        ));
    }
    if users::key_taken(&mut tx, true, &email_key).await? {
        errors.push(FieldError::new("email", "This email is already used."));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let first_name = input.first_name.into_inner();
    let last_name = input.last_name.into_inner();
    let id = users::insert(
        &mut tx,
        &users::NewUser {
            username: input.username.as_str(),
            username_key: &username_key,
            email: input.email.as_str(),
            email_key: &email_key,
            first_name: first_name.as_deref(),
            last_name: last_name.as_deref(),
            enabled: input.enabled,
            password_hash: &hash,
            now,
        },
    )
    .await
    .map_err(|e| {
        if store::is_unique_violation(&e) {
            AppError::Validation(vec![FieldError::new(
                "username",
                "This username or email is already used.",
            )])
        } else {
            e.into()
        }
    })?;
    users::add_role(&mut tx, id, users::USER_ROLE_ID).await?;
    if input.admin {
        users::add_role(&mut tx, id, users::ADMIN_ROLE_ID).await?;
    }
    let orgs = if input.organizations.is_empty() {
        vec![organizations::DEFAULT_ORGANIZATION_ID]
    } else {
        input.organizations
    };
    for org in orgs {
        users::add_organization(&mut tx, id, org).await?;
    }
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: actor.user_id,
            actor_name: Some(&actor.name),
            action: "user.created",
            target_type: "user",
            target_id: Some(id),
            target_label: Some(input.username.as_str()),
            details: None,
            ip: actor.ip.as_deref(),
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn organization_id_by_name(
    state: &AppState,
    name: &str,
) -> AppResult<Option<OrganizationId>> {
    Ok(organizations::find_by_name(&state.db, &name.trim().to_lowercase()).await?)
}
