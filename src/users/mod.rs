//! Creating and editing users: profile, roles, organizations, initial password.

pub mod bootstrap;
pub mod grid;
pub mod lifecycle;
pub mod login;
pub mod probe;
pub mod summary;
pub mod views;

use std::collections::BTreeSet;

use crate::access::Actor;
use crate::access::authority::managed_user;
use crate::domain::audit::AuditAction;
use crate::domain::{FieldError, OrganizationId, PlainPassword, Profile, ProfileInput, UserId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::users::lifecycle::{self as lifecycle_store};
use crate::store::{self, Tx, audit, organizations, users};

pub use crate::store::users::{ADMIN_ROLE_ID, USER_ROLE_ID};

/// The roles a user can hold: (id, label).
pub const ROLES: [(i64, &str); 2] = [(ADMIN_ROLE_ID, "Administrator"), (USER_ROLE_ID, "User")];

pub struct NewUserInput {
    pub profile: Profile,
    pub password: PlainPassword,
    pub enabled: bool,
    /// Role ids; empty means User.
    pub roles: Vec<i64>,
    /// Empty means the default organization.
    pub organizations: Vec<OrganizationId>,
}

pub struct UpdateUserInput {
    pub profile: Profile,
    pub enabled: bool,
    pub roles: Vec<i64>,
    pub organizations: Vec<OrganizationId>,
}

/// A user's current profile as editable input: the starting point of an edit form or an
/// API PATCH, which changes only what it sends.
pub fn profile_input(u: &UserSummary) -> ProfileInput {
    ProfileInput {
        username: u.username.clone(),
        email: u.email.clone(),
        name_prefix: u.name_prefix.clone().unwrap_or_default(),
        first_name: u.first_name.clone().unwrap_or_default(),
        middle_name: u.middle_name.clone().unwrap_or_default(),
        last_name: u.last_name.clone().unwrap_or_default(),
        name_suffix: u.name_suffix.clone().unwrap_or_default(),
        birthday: u.birthday.clone().unwrap_or_default(),
        phone: u.phone.clone().unwrap_or_default(),
    }
}

fn profile_row<'a>(
    p: &'a Profile,
    username_key: &'a str,
    email_key: &'a str,
) -> users::ProfileRow<'a> {
    users::ProfileRow {
        username: p.username.as_str(),
        username_key,
        email: p.email.as_str(),
        email_key,
        name_prefix: p.name_prefix.as_deref(),
        first_name: p.first_name.as_deref(),
        middle_name: p.middle_name.as_deref(),
        last_name: p.last_name.as_deref(),
        name_suffix: p.name_suffix.as_deref(),
        birthday: p.birthday.as_deref(),
        phone: p.phone.as_deref(),
    }
}

/// Field errors for a username or email another user already has.
async fn uniqueness(tx: &mut Tx, p: &Profile, except: Option<UserId>) -> AppResult<()> {
    let mut errors = Vec::new();
    if users::key_taken(tx, false, &p.username.key(), except).await? {
        errors.push(FieldError::new(
            "username",
            "This username is already used.",
        ));
    }
    if users::key_taken(tx, true, &p.email.key(), except).await? {
        errors.push(FieldError::new("email", "This email is already used."));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// A unique violation at write time (a race the pre-check lost) is still a field error.
fn unique_to_field(e: sqlx::Error) -> AppError {
    if store::is_unique_violation(&e) {
        AppError::Validation(vec![FieldError::new(
            "username",
            "This username or email is already used.",
        )])
    } else {
        e.into()
    }
}

/// Roles must be known, and organizations ones the actor manages: an administrator cannot
/// place a user where they do not administer.
async fn check_roles_and_orgs(
    roles: &[i64],
    orgs: &[OrganizationId],
    state: &AppState,
    actor: &Actor,
) -> AppResult<()> {
    let mut errors = Vec::new();
    if roles.iter().any(|r| !ROLES.iter().any(|(id, _)| id == r)) {
        errors.push(FieldError::new("roles", "Choose roles from the list."));
    }
    let known: BTreeSet<OrganizationId> = crate::organizations::choices(state, actor)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    if orgs.iter().any(|o| !known.contains(o)) {
        errors.push(FieldError::new(
            "organizations",
            "Choose organizations from the list.",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Creates a user with its roles and memberships, in one transaction with its audit entry.
pub async fn create(state: &AppState, actor: &Actor, input: NewUserInput) -> AppResult<UserId> {
    actor.require_admin()?;
    let roles = if input.roles.is_empty() {
        vec![USER_ROLE_ID]
    } else {
        input.roles
    };
    let orgs = if input.organizations.is_empty() {
        vec![organizations::DEFAULT_ORGANIZATION_ID]
    } else {
        input.organizations
    };
    let mut errors = Vec::new();
    if let Err(e) = state
        .settings
        .security
        .password
        .check("password", &input.password)
    {
        errors.push(e);
    }
    match check_roles_and_orgs(&roles, &orgs, state, actor).await {
        Err(AppError::Validation(mut e)) => errors.append(&mut e),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = state.hashing.hash(&input.password).await?;
    let now = state.clock.now();
    let p = &input.profile;
    let (ukey, ekey) = (p.username.key(), p.email.key());

    let mut tx = state.begin().await?;
    uniqueness(&mut tx, p, None).await?;
    let id = users::insert(
        &mut tx,
        &profile_row(p, &ukey, &ekey),
        input.enabled,
        &hash,
        now,
    )
    .await
    .map_err(unique_to_field)?;
    users::set_roles(&mut tx, id, &roles).await?;
    users::set_organizations(&mut tx, id, &orgs).await?;
    audit::record(
        &mut tx,
        &actor.entry(AuditAction::UserCreated, id, p.username.as_str(), None, now),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Edits a user. Enabling or disabling through the form follows the same rules as the
/// Enable/Disable buttons; an administrator cannot take their own Administrator role away,
/// and the last administrator keeps theirs.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    input: UpdateUserInput,
) -> AppResult<()> {
    let found = managed_user(state, actor, id).await?;
    let current = found.user;
    // Someone who is not an administrator edits only their own profile: roles and
    // memberships are an administrator's to change.
    if !actor.authority.is_admin() {
        let mut current_orgs: Vec<OrganizationId> =
            found.organizations.iter().map(|m| m.id).collect();
        let mut asked = input.organizations.clone();
        current_orgs.sort_unstable();
        asked.sort_unstable();
        let mut roles = input.roles.clone();
        roles.sort_unstable();
        if asked != current_orgs || roles != users::role_ids(&state.db, id).await? {
            return Err(AppError::Forbidden(
                "Only administrators can change roles and organizations.".into(),
            ));
        }
    }
    let mut errors = Vec::new();
    if input.roles.is_empty() {
        errors.push(FieldError::new("roles", "Choose at least one role."));
    }
    if input.organizations.is_empty() {
        errors.push(FieldError::new(
            "organizations",
            "Choose at least one organization.",
        ));
    }
    let is_self = actor.user_id == Some(id);
    let loses_admin = current.is_admin && !input.roles.contains(&ADMIN_ROLE_ID);
    if is_self && loses_admin {
        errors.push(FieldError::new(
            "roles",
            "You cannot remove your own Administrator role.",
        ));
    }
    if is_self && !input.enabled {
        errors.push(FieldError::new(
            "enabled",
            "You cannot disable your own account.",
        ));
    }
    if actor.authority.is_admin() {
        match check_roles_and_orgs(&input.roles, &input.organizations, state, actor).await {
            Err(AppError::Validation(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let now = state.clock.now();
    let p = &input.profile;
    let (ukey, ekey) = (p.username.key(), p.email.key());

    let mut tx = state.begin().await?;
    uniqueness(&mut tx, p, Some(id)).await?;
    users::update_profile(&mut tx, id, &profile_row(p, &ukey, &ekey), now)
        .await
        .map_err(unique_to_field)?;
    users::set_roles(&mut tx, id, &input.roles).await?;
    users::set_organizations(&mut tx, id, &input.organizations).await?;
    if input.enabled != current.enabled {
        let meta = actor.meta(now);
        let only = crate::domain::query::UserFilter::only(vec![id]);
        lifecycle_store::set_enabled(&mut tx, &only, input.enabled, None, &meta).await?;
    }
    if loses_admin && lifecycle_store::count_admins(&mut tx, true).await? == 0 {
        return Err(AppError::Validation(vec![FieldError::new(
            "roles",
            "This is the last enabled administrator: the Administrator role stays.",
        )]));
    }
    if !input.enabled && lifecycle_store::count_admins(&mut tx, true).await? == 0 {
        return Err(AppError::Validation(vec![FieldError::new(
            "enabled",
            "The last enabled administrator cannot be disabled.",
        )]));
    }
    let changed = changed_fields(&current, p, &input.roles, current.is_admin);
    let details = serde_json::json!({ "changed": changed }).to_string();
    audit::record(
        &mut tx,
        &actor.entry(
            AuditAction::UserUpdated,
            id,
            p.username.as_str(),
            Some(&details),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn changed_fields(
    u: &users::UserRow,
    p: &Profile,
    roles: &[i64],
    was_admin: bool,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut cmp = |name: &'static str, old: Option<&str>, new: Option<&str>| {
        if old != new {
            out.push(name);
        }
    };
    cmp("username", Some(&u.username), Some(p.username.as_str()));
    cmp("email", Some(&u.email), Some(p.email.as_str()));
    cmp(
        "name_prefix",
        u.name_prefix.as_deref(),
        p.name_prefix.as_deref(),
    );
    cmp(
        "first_name",
        u.first_name.as_deref(),
        p.first_name.as_deref(),
    );
    cmp(
        "middle_name",
        u.middle_name.as_deref(),
        p.middle_name.as_deref(),
    );
    cmp("last_name", u.last_name.as_deref(), p.last_name.as_deref());
    cmp(
        "name_suffix",
        u.name_suffix.as_deref(),
        p.name_suffix.as_deref(),
    );
    cmp("birthday", u.birthday.as_deref(), p.birthday.as_deref());
    cmp("phone", u.phone.as_deref(), p.phone.as_deref());
    if was_admin != roles.contains(&ADMIN_ROLE_ID) {
        out.push("roles");
    }
    out
}

pub use summary::UserSummary;

/// A user the actor may manage, for their page, the API or an edit form.
pub async fn get(state: &AppState, actor: &Actor, id: UserId) -> AppResult<UserSummary> {
    Ok(managed_user(state, actor, id).await?.user.into())
}

/// The user of a session, with their organizations, if they may still act: enabled,
/// active, and holding the epoch the session was signed in with. None ends the session.
pub async fn signed_in(
    state: &AppState,
    id: UserId,
    epoch: Option<i64>,
) -> AppResult<Option<(UserSummary, Vec<crate::organizations::MembershipRow>)>> {
    let Some(found) = users::find_with_organizations(&state.db, id).await? else {
        return Ok(None);
    };
    let u = &found.user;
    if login::standing(u.enabled, u.auth_status).is_err() || Some(u.session_epoch) != epoch {
        return Ok(None);
    }
    Ok(Some((found.user.into(), found.organizations)))
}

/// The names of a user's organizations and roles, and their latest history, for their
/// page.
pub async fn details(
    state: &AppState,
    actor: &Actor,
    id: UserId,
) -> AppResult<(Vec<String>, Vec<String>, Vec<audit::EntryRow>)> {
    managed_user(state, actor, id).await?;
    Ok((
        users::organization_names(&state.db, id).await?,
        users::role_labels(&state.db, id).await?,
        audit::recent_for(&state.db, id, 20).await?,
    ))
}

/// A user the actor may manage who belongs to `org`: the API works within one
/// organization, and nobody outside it exists there.
pub async fn get_in(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    org: OrganizationId,
) -> AppResult<UserSummary> {
    let found = managed_user(state, actor, id).await?;
    if found.organizations.iter().any(|m| m.id == org) {
        Ok(found.user.into())
    } else {
        Err(AppError::NotFound)
    }
}

/// A page of the users matching `filter` that the actor may manage, in `sort` order;
/// with their count when asked for.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: crate::domain::query::UserFilter,
    sort: &[(crate::domain::query::SortColumn, bool)],
    (limit, offset): (i64, i64),
    with_count: bool,
) -> AppResult<(Vec<UserSummary>, Option<i64>)> {
    let filter = crate::access::authority::restrict(actor, filter);
    let rows = users::page_sorted(&state.db, &filter, sort, limit, offset)
        .await?
        .into_iter()
        .map(UserSummary::from)
        .collect();
    let total = if with_count {
        Some(users::count_matching(&state.db, &filter).await?)
    } else {
        None
    };
    Ok((rows, total))
}

/// The role ids and organization ids of a user the actor may manage.
pub async fn roles_and_organizations(
    state: &AppState,
    actor: &Actor,
    id: UserId,
) -> AppResult<(Vec<i64>, Vec<OrganizationId>)> {
    let found = managed_user(state, actor, id).await?;
    Ok((
        users::role_ids(&state.db, id).await?,
        found.organizations.iter().map(|m| m.id).collect(),
    ))
}

/// What an edit form starts from: the user, their role ids and organization ids.
pub struct Editable {
    pub user: UserSummary,
    pub roles: Vec<i64>,
    pub organizations: Vec<OrganizationId>,
}

pub async fn editable(state: &AppState, actor: &Actor, id: UserId) -> AppResult<Editable> {
    let found = managed_user(state, actor, id).await?;
    Ok(Editable {
        roles: users::role_ids(&state.db, id).await?,
        organizations: found.organizations.iter().map(|m| m.id).collect(),
        user: found.user.into(),
    })
}

pub async fn organization_id_by_name(
    state: &AppState,
    name: &str,
) -> AppResult<Option<OrganizationId>> {
    Ok(organizations::find_by_name(&state.db, &name.trim().to_lowercase()).await?)
}
