//! Who is acting and what they may do, for every capability: the `Actor` each use case
//! receives, its `Authority` (who may manage whom), and the throttling of failed
//! credentials.

pub mod authority;
pub mod throttle;

use crate::domain::audit::{AuditAction, TargetId};
use crate::domain::{OrganizationId, UserId};
use crate::error::{AppError, AppResult};
use crate::store::audit;
pub use authority::{Authority, Membership, Scope};

/// Who is acting, for authorization and the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub name: String,
    pub ip: Option<String>,
    pub authority: Authority,
}

impl Actor {
    /// Changes made from the command line or at start-up.
    pub fn system(name: &str) -> Self {
        Self {
            user_id: None,
            name: name.to_owned(),
            ip: None,
            authority: Authority::System,
        }
    }

    /// The audit entry of something this actor did to the record `target` (named `label`
    /// in the log, which outlives the record): the one way every use case writes one.
    pub fn entry<'a, T: TargetId>(
        &'a self,
        action: AuditAction,
        target: T,
        label: &'a str,
        details: Option<&'a str>,
        at: i64,
    ) -> audit::Entry<'a> {
        debug_assert_eq!(
            action.target(),
            T::TARGET,
            "{action:?} names another kind of record"
        );
        audit::Entry {
            actor_id: self.user_id,
            actor_name: Some(&self.name),
            action,
            target_id: Some(target.into()),
            target_label: Some(label),
            details,
            ip: self.ip.as_deref(),
            at,
        }
    }

    /// Who and when, for the entries a set-based statement writes (one per user).
    pub fn meta(&self, now: i64) -> audit::AuditMeta<'_> {
        audit::AuditMeta {
            actor_id: self.user_id,
            actor_name: &self.name,
            ip: self.ip.as_deref(),
            now,
        }
    }

    /// Refuses unless the actor administers users (anywhere).
    pub fn require_admin(&self) -> AppResult<&Scope> {
        match &self.authority {
            Authority::System => Ok(&Scope::Global),
            Authority::Administrator(scope) => Ok(scope),
            Authority::User => Err(AppError::Forbidden(
                "Only administrators can manage users.".into(),
            )),
        }
    }

    /// Refuses unless the actor manages every organization (settings shared by all).
    pub fn require_global(&self) -> AppResult<()> {
        self.require_admin()?;
        if self.authority.is_global() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Only an administrator of an organization with global access can change this."
                    .into(),
            ))
        }
    }

    /// Refuses an organization outside the actor's scope as if it did not exist.
    pub fn require_organization(&self, org: OrganizationId) -> AppResult<()> {
        self.require_admin()?;
        if self.authority.manages_organization(org) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
