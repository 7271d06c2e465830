//! The one place that says who may do what (SPEC §1).
//!
//! Handlers call [`authorize`] before they touch anything; scoping of
//! records to a partner's institution or a trainee's own data is decided here
//! too, so that a rule is never re-written per handler.

use uuid::Uuid;

use super::{Caller, Role};
use crate::error::{AppError, AppResult};

/// Kinds of records the API exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::VariantArray, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Resource {
    Institution,
    AuditEvent,
    Notification,
    User,
    Invitation,
    Program,
    Cohort,
    Trainee,
    Enrollment,
    Session,
    Certificate,
    Incubator,
    Venture,
    Agreement,
    Exchange,
    Stats,
}

/// What a caller wants to do with a kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::VariantArray, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

/// The role matrix: may `role` do `action` on `resource` at all?
pub fn allows(role: Role, resource: Resource, action: Action) -> bool {
    use Action::*;
    use Resource::*;
    use Role::*;
    match (resource, action) {
        // Coordinators are not named for institutions in the spec, but they
        // must see them to pick hosts and leads; only the secretariat edits.
        (Institution, Read) => matches!(role, Admin | Coordinator | Partner | Viewer),
        (Institution, Create | Update | Delete) => role == Admin,
        (AuditEvent, Read) => role == Admin,
        (AuditEvent, Create | Update | Delete) => false,
        // The outbox holds personal data: the secretariat only.
        (Notification, Read | Update) => role == Admin,
        (Notification, Create | Delete) => false,
        (User, Read | Update) => role == Admin,
        // Users come by invitation; they are disabled, never deleted.
        (User, Create | Delete) => false,
        (Invitation, Create | Read) => matches!(role, Admin | Coordinator),
        (Invitation, Update | Delete) => false,
        (Program | Cohort, Read) => matches!(role, Admin | Coordinator | Partner | Viewer),
        (Program | Cohort, Create | Update | Delete) => matches!(role, Admin | Coordinator),
        // Personal data: never viewers. Partners and trainees are scoped.
        (Resource::Trainee, Read | Update) => {
            matches!(role, Admin | Coordinator | Partner | Role::Trainee)
        }
        (Resource::Trainee, Create | Delete) => matches!(role, Admin | Coordinator | Partner),
        (Enrollment, Read | Update) => {
            matches!(role, Admin | Coordinator | Partner | Role::Trainee)
        }
        (Enrollment, Create) => matches!(role, Admin | Coordinator | Partner),
        (Enrollment, Delete) => false,
        (Session, Read) => matches!(role, Admin | Coordinator | Partner),
        (Session, Create | Update | Delete) => matches!(role, Admin | Coordinator),
        (Certificate, Update) => matches!(role, Admin | Coordinator),
        (Certificate, Read | Create | Delete) => false,
        (Incubator | Agreement, Read) => matches!(role, Admin | Coordinator | Partner | Viewer),
        (Incubator | Agreement, Create | Update | Delete) => matches!(role, Admin | Coordinator),
        // Ventures name their founders: no viewers; partners see their own.
        (Venture, Read) => matches!(role, Admin | Coordinator | Partner),
        (Venture, Create | Update | Delete) => matches!(role, Admin | Coordinator),
        (Exchange, Read) => matches!(role, Admin | Coordinator | Partner | Role::Trainee),
        (Exchange, Create) => matches!(role, Admin | Coordinator | Partner),
        (Exchange, Update | Delete) => matches!(role, Admin | Coordinator),
        // Aggregates only, for dashboards.
        (Stats, Read) => matches!(role, Admin | Coordinator | Viewer),
        (Stats, Create | Update | Delete) => false,
    }
}

/// Whose personal records a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Admins and coordinators: everyone.
    All,
    /// Partner staff: the people of their institution.
    Institution(Uuid),
    /// A trainee: itself.
    Trainee(Uuid),
    /// Nobody's.
    Nobody,
}

/// The scope of a caller over trainees and their enrollments.
pub fn people_scope(caller: &Caller) -> Scope {
    match (caller.role, caller.institution_id, caller.trainee_id) {
        (Role::Admin | Role::Coordinator, _, _) => Scope::All,
        (Role::Partner, Some(i), _) => Scope::Institution(i),
        (Role::Trainee, _, Some(t)) => Scope::Trainee(t),
        _ => Scope::Nobody,
    }
}

impl Scope {
    /// Whether a record of this trainee at this institution is in scope.
    pub fn sees(self, institution_id: Uuid, trainee_id: Uuid) -> bool {
        match self {
            Scope::All => true,
            Scope::Institution(i) => i == institution_id,
            Scope::Trainee(t) => t == trainee_id,
            Scope::Nobody => false,
        }
    }

    /// 404 unless the record is in scope, so that its existence does not leak.
    pub fn require(self, institution_id: Uuid, trainee_id: Uuid) -> AppResult<()> {
        if self.sees(institution_id, trainee_id) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// May `inviter` invite someone of role `invitee`? Admins anyone;
/// coordinators partner staff and trainees.
pub fn may_invite(inviter: Role, invitee: Role) -> bool {
    match inviter {
        Role::Admin => true,
        Role::Coordinator => matches!(invitee, Role::Partner | Role::Trainee),
        _ => false,
    }
}

/// 403 unless the caller's role may do this at all.
pub fn authorize(caller: &Caller, resource: Resource, action: Action) -> AppResult<()> {
    if allows(caller.role, resource, action) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
