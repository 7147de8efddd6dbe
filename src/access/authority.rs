//! Who may manage whom, decided once for every interface (pages, mass actions, exports,
//! the API). An administrator manages the organizations in which they hold the
//! Administrator role (they are a member and have the role); an organization marked global
//! gives its administrators every organization. Anyone else manages only themselves.
//!
//! A user belongs to every one of their organizations at once (the account, its password
//! and its roles are shared by all of them), so managing a user takes managing each of their
//! organizations: otherwise an administrator of one organization could lock out, or make an
//! Administrator of, someone another organization relies on.

use std::collections::BTreeSet;

use super::Actor;
use crate::domain::query::UserFilter;
use crate::domain::{OrganizationId, UserId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::organizations::MembershipRow;
use crate::store::users::{self, UserWithOrganizations};

/// The organizations an administrator manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every organization, present and future (a global organization's administrators).
    Global,
    /// Exactly these.
    Organizations(BTreeSet<OrganizationId>),
}

impl Scope {
    pub fn covers(&self, org: OrganizationId) -> bool {
        match self {
            Scope::Global => true,
            Scope::Organizations(orgs) => orgs.contains(&org),
        }
    }

    /// Whether a user with these memberships is within the scope: a user with no
    /// organization belongs to none an administrator of some could vouch for.
    pub fn covers_all(&self, orgs: &[OrganizationId]) -> bool {
        match self {
            Scope::Global => true,
            Scope::Organizations(_) => !orgs.is_empty() && orgs.iter().all(|o| self.covers(*o)),
        }
    }

    /// The organization ids for a filter; None means no restriction.
    pub fn restriction(&self) -> Option<Vec<OrganizationId>> {
        match self {
            Scope::Global => None,
            Scope::Organizations(orgs) => Some(orgs.iter().copied().collect()),
        }
    }
}

/// What an actor may manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// The command line and start-up: an operator with access to the machine.
    System,
    /// A signed-in administrator.
    Administrator(Scope),
    /// A signed-in user without the Administrator role: only themselves.
    User,
}

/// One membership as authority needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub organization: OrganizationId,
    pub global: bool,
}

impl Authority {
    /// The authority of a user from their role and memberships. Disabled organizations
    /// count: their administrators may enable them again.
    pub fn of(is_admin: bool, memberships: &[Membership]) -> Self {
        if !is_admin {
            return Authority::User;
        }
        if memberships.iter().any(|m| m.global) {
            return Authority::Administrator(Scope::Global);
        }
        Authority::Administrator(Scope::Organizations(
            memberships.iter().map(|m| m.organization).collect(),
        ))
    }

    pub fn is_admin(&self) -> bool {
        !matches!(self, Authority::User)
    }

    /// Every organization: the system, or an administrator of a global organization.
    pub fn is_global(&self) -> bool {
        matches!(
            self,
            Authority::System | Authority::Administrator(Scope::Global)
        )
    }

    /// The organizations managed; None for a plain user (who manages no organization).
    pub fn scope(&self) -> Option<Scope> {
        match self {
            Authority::System => Some(Scope::Global),
            Authority::Administrator(s) => Some(s.clone()),
            Authority::User => None,
        }
    }

    pub fn manages_organization(&self, org: OrganizationId) -> bool {
        self.scope().is_some_and(|s| s.covers(org))
    }

    /// Whether `me` may manage the user `target` with these organizations.
    pub fn manages_user(
        &self,
        me: Option<UserId>,
        target: UserId,
        orgs: &[OrganizationId],
    ) -> bool {
        match self {
            Authority::System => true,
            Authority::Administrator(scope) => scope.covers_all(orgs) || me == Some(target),
            Authority::User => me == Some(target),
        }
    }
}

impl From<&MembershipRow> for Membership {
    fn from(m: &MembershipRow) -> Self {
        Self {
            organization: m.id,
            global: m.is_global,
        }
    }
}

/// The authority a user holds now, from their role and memberships.
pub fn of_user(is_admin: bool, memberships: &[MembershipRow]) -> Authority {
    let list: Vec<Membership> = memberships.iter().map(Membership::from).collect();
    Authority::of(is_admin, &list)
}

/// The user `id` with their organizations, if `actor` may manage them. A user out of an
/// administrator's reach is "not found": not theirs to know about. A plain user asking for
/// someone else is told they may only manage themselves.
pub async fn managed_user(
    state: &AppState,
    actor: &Actor,
    id: UserId,
) -> AppResult<UserWithOrganizations> {
    if actor.authority == Authority::User && actor.user_id != Some(id) {
        return Err(AppError::Forbidden(
            "You can only see and change your own user.".into(),
        ));
    }
    let found = users::find_with_organizations(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let orgs: Vec<OrganizationId> = found.organizations.iter().map(|m| m.id).collect();
    if actor.authority.manages_user(actor.user_id, id, &orgs) {
        Ok(found)
    } else {
        Err(AppError::NotFound)
    }
}

/// `filter` narrowed to the users `actor` may manage: the grid, "all matching", exports and
/// the API list read only these.
pub fn restrict(actor: &Actor, mut filter: UserFilter) -> UserFilter {
    match actor.authority.scope() {
        Some(scope) => {
            filter.within = scope.restriction();
        }
        None => {
            // No user (a system actor without authority) reaches nobody.
            let me: Vec<UserId> = actor.user_id.into_iter().collect();
            filter.ids = Some(match filter.ids {
                Some(ids) => ids.into_iter().filter(|i| me.contains(i)).collect(),
                None => me,
            });
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: fn(i64) -> UserId = UserId;
    const O: fn(i64) -> OrganizationId = OrganizationId;
    fn os(ids: &[i64]) -> Vec<OrganizationId> {
        ids.iter().copied().map(O).collect()
    }

    fn m(organization: OrganizationId, global: bool) -> Membership {
        Membership {
            organization,
            global,
        }
    }

    #[test]
    fn administrators_manage_only_users_wholly_within_their_organizations() {
        let other = Authority::of(true, &[m(O(2), false)]);
        assert!(other.manages_user(Some(U(9)), U(5), &os(&[2])));
        assert!(
            !other.manages_user(Some(U(9)), U(5), &os(&[1])),
            "another organization"
        );
        assert!(
            !other.manages_user(Some(U(9)), U(5), &os(&[1, 2])),
            "shared with another"
        );
        assert!(
            !other.manages_user(Some(U(9)), U(5), &os(&[])),
            "no organization"
        );
        assert!(other.manages_user(Some(U(9)), U(9), &os(&[])), "themselves");
        assert!(other.manages_organization(O(2)) && !other.manages_organization(O(1)));

        let global = Authority::of(true, &[m(O(1), true)]);
        assert!(global.is_global());
        assert!(global.manages_user(Some(U(1)), U(5), &os(&[2, 3])));
        assert!(global.manages_user(Some(U(1)), U(5), &os(&[])));

        let plain = Authority::of(false, &[m(O(1), true)]);
        assert_eq!(plain, Authority::User);
        assert!(plain.manages_user(Some(U(4)), U(4), &os(&[1])));
        assert!(!plain.manages_user(Some(U(4)), U(5), &os(&[1])));
        assert!(!plain.manages_organization(O(1)));
    }
}
