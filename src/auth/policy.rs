//! The one place that says who may do what (SPEC §1).
//!
//! A [`Principal`] is built once per request. The role table below is data:
//! for every kind of record and every action it says, per role, whether the
//! role may act on every record, only on records in its own scope (its
//! institution's people, or itself), or not at all. [`may`] answers every
//! question from it: 403 when the role may not act at all, else the
//! [`Scope`] that the caller's lookups and lists must stay inside
//! ([`super::scope`] turns a scope into SQL, one function per table).
//! Record-level rules that are not a matter of scope (a trainee edits only
//! its contact details, partner staff only withdraw) live here too.

use uuid::Uuid;

use super::{Principal, Role};
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
    ServiceRequest,
    Agreement,
    Exchange,
    /// A knowledge resource of the catalogue.
    Knowledge,
    /// A partner system's subscription to events.
    Webhook,
    Stats,
}

/// What a caller wants to do with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::VariantArray, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    /// Any move of the record's lifecycle.
    Move,
    /// The one move that partner staff and trainees may make: withdrawing.
    Withdraw,
}

/// How far a role's right reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Not at all: 403.
    Deny,
    /// Only records in the caller's own scope: others answer 404.
    Own,
    /// Published records, and the caller's own institution's whatever their
    /// state: others answer 404.
    Published,
    /// Every record.
    All,
}

use Access::{All as A, Deny as N, Own as O, Published as P};

/// The role table: per kind of record and action, the access of admin,
/// coordinator, partner, trainee and viewer, in that order. A pair that is
/// not listed is denied to everyone.
#[rustfmt::skip]
pub static TABLE: &[(Resource, Action, [Access; 5])] = {
    use Action::*;
    use Resource::*;
    &[
        //                                  admin coord partner trainee viewer
        // Coordinators must see institutions to pick hosts and leads.
        (Institution,    Read,             [A, A, A, N, A]),
        (Institution,    Create,           [A, N, N, N, N]),
        (Institution,    Update,           [A, N, N, N, N]),
        (Institution,    Delete,           [A, N, N, N, N]),
        (AuditEvent,     Read,             [A, N, N, N, N]),
        // The outbox holds personal data: the secretariat only.
        (Notification,   Read,             [A, N, N, N, N]),
        (Notification,   Update,           [A, N, N, N, N]),
        // Users come by invitation; they are disabled, never deleted.
        (User,           Read,             [A, N, N, N, N]),
        (User,           Update,           [A, N, N, N, N]),
        // Coordinators read the invitations they sent.
        (Invitation,     Read,             [A, O, N, N, N]),
        (Invitation,     Create,           [A, A, N, N, N]),
        (Program,        Read,             [A, A, A, N, A]),
        (Program,        Create,           [A, A, N, N, N]),
        (Program,        Update,           [A, A, N, N, N]),
        (Program,        Delete,           [A, A, N, N, N]),
        (Cohort,         Read,             [A, A, A, N, A]),
        (Cohort,         Create,           [A, A, N, N, N]),
        (Cohort,         Update,           [A, A, N, N, N]),
        (Cohort,         Delete,           [A, A, N, N, N]),
        (Cohort,         Move,             [A, A, N, N, N]),
        // Personal data: never viewers; partners and trainees their own.
        (Trainee,        Read,             [A, A, O, O, N]),
        (Trainee,        Create,           [A, A, O, N, N]),
        (Trainee,        Update,           [A, A, O, O, N]),
        (Trainee,        Delete,           [A, A, N, N, N]),
        (Enrollment,     Read,             [A, A, O, O, N]),
        (Enrollment,     Create,           [A, A, O, N, N]),
        (Enrollment,     Move,             [A, A, N, N, N]),
        (Enrollment,     Withdraw,         [A, A, O, O, N]),
        // Sessions are not personal; their attendance marks are the
        // enrollments', read in the caller's enrollment scope.
        (Session,        Read,             [A, A, A, N, N]),
        (Session,        Create,           [A, A, N, N, N]),
        (Session,        Update,           [A, A, N, N, N]),
        (Certificate,    Update,           [A, A, N, N, N]),
        (Incubator,      Read,             [A, A, A, N, A]),
        (Incubator,      Create,           [A, A, N, N, N]),
        (Incubator,      Update,           [A, A, N, N, N]),
        (Incubator,      Delete,           [A, A, N, N, N]),
        // Ventures name their founders: partners see their institution's.
        (Venture,        Read,             [A, A, O, N, N]),
        (Venture,        Create,           [A, A, N, N, N]),
        (Venture,        Update,           [A, A, N, N, N]),
        (Venture,        Delete,           [A, A, N, N, N]),
        (Venture,        Move,             [A, A, N, N, N]),
        // Partner staff ask for services for their own ventures.
        (ServiceRequest, Read,             [A, A, N, N, N]),
        (ServiceRequest, Create,           [A, A, O, N, N]),
        (ServiceRequest, Update,           [A, A, N, N, N]),
        (ServiceRequest, Move,             [A, A, N, N, N]),
        (Agreement,      Read,             [A, A, A, N, N]),
        (Agreement,      Create,           [A, A, N, N, N]),
        (Agreement,      Update,           [A, A, N, N, N]),
        (Agreement,      Delete,           [A, A, N, N, N]),
        (Exchange,       Read,             [A, A, O, O, N]),
        (Exchange,       Create,           [A, A, O, N, N]),
        // Partner staff of either side correct a proposal; coordinators
        // until the exchange is final.
        (Exchange,       Update,           [A, A, O, N, N]),
        (Exchange,       Delete,           [A, A, N, N, N]),
        (Exchange,       Move,             [A, A, N, N, N]),
        // The catalogue: signed-in users read what is published, partner
        // staff share (and remove) their own institution's resources.
        (Knowledge,      Read,             [A, A, P, P, P]),
        (Knowledge,      Create,           [A, A, O, N, N]),
        (Knowledge,      Update,           [A, A, O, N, N]),
        (Knowledge,      Delete,           [A, A, O, N, N]),
        (Knowledge,      Move,             [A, A, O, N, N]),
        // Partner staff subscribe their institution's systems.
        (Webhook,        Read,             [A, N, O, N, N]),
        (Webhook,        Create,           [A, N, O, N, N]),
        (Webhook,        Update,           [A, N, O, N, N]),
        (Webhook,        Delete,           [A, N, O, N, N]),
        // Aggregates only, for dashboards.
        (Stats,          Read,             [A, A, N, N, A]),
    ]
};

/// The access of `role` to `action` on `resource`, from [`TABLE`].
pub fn access(role: Role, resource: Resource, action: Action) -> Access {
    let column = match role {
        Role::Admin => 0,
        Role::Coordinator => 1,
        Role::Partner => 2,
        Role::Trainee => 3,
        Role::Viewer => 4,
    };
    TABLE
        .iter()
        .find(|(r, a, _)| *r == resource && *a == action)
        .map_or(Access::Deny, |(_, _, roles)| roles[column])
}

/// Whose records a caller's lookups and lists may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every record.
    All,
    /// Partner staff: the people of their institution and what is theirs.
    Institution(Uuid),
    /// A trainee: itself and what is its own.
    Trainee(Uuid),
    /// Staff's own records where staff see only theirs: what they wrote
    /// (a coordinator's invitations).
    Author(Uuid),
    /// Readers of the catalogue: what is published, and their own
    /// institution's records when they have one.
    Published(Option<Uuid>),
    /// Nothing.
    Nobody,
}

impl Principal {
    /// The caller's own scope, for rights marked [`Access::Own`].
    pub fn own_scope(&self) -> Scope {
        match (self.role, self.institution_id, self.trainee_id) {
            (Role::Admin, _, _) => Scope::All,
            (Role::Coordinator, _, _) => Scope::Author(self.user_id),
            (Role::Partner, Some(i), _) => Scope::Institution(i),
            (Role::Trainee, _, Some(t)) => Scope::Trainee(t),
            _ => Scope::Nobody,
        }
    }

    /// Whether the caller is programme staff (admin or coordinator).
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Coordinator)
    }
}

/// 403 unless the caller's role may do `action` on `resource` at all; else
/// the scope that every record it touches must be found in.
pub fn may(principal: &Principal, resource: Resource, action: Action) -> AppResult<Scope> {
    match access(principal.role, resource, action) {
        Access::Deny => Err(AppError::Forbidden),
        Access::All => Ok(Scope::All),
        Access::Own => Ok(principal.own_scope()),
        Access::Published => Ok(Scope::Published(match principal.own_scope() {
            Scope::Institution(i) => Some(i),
            _ => None,
        })),
    }
}

impl Scope {
    /// Whether a record of this trainee at this institution is in scope.
    pub fn sees(self, institution_id: Uuid, trainee_id: Uuid) -> bool {
        match self {
            Scope::All => true,
            Scope::Institution(i) => i == institution_id,
            Scope::Trainee(t) => t == trainee_id,
            Scope::Author(_) | Scope::Published(_) | Scope::Nobody => false,
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

    /// The institution a partner's new records belong to: its own when
    /// `asked` is none, 403 when `asked` names another. Staff must name one
    /// (`None` is returned for them to require it).
    pub fn own_institution(self, asked: Option<Uuid>) -> AppResult<Option<Uuid>> {
        match (self, asked) {
            (Scope::Institution(own), None) => Ok(Some(own)),
            (Scope::Institution(own), Some(i)) if i == own => Ok(Some(own)),
            (Scope::Institution(_), Some(_))
            | (Scope::Trainee(_) | Scope::Author(_) | Scope::Published(_) | Scope::Nobody, _) => {
                Err(AppError::Forbidden)
            }
            (Scope::All, asked) => Ok(asked),
        }
    }
}

/// The move an enrollment's caller asks for: withdrawing is a right of its
/// own, every other move is staff's.
pub fn enrollment_move(to_withdrawn: bool) -> Action {
    if to_withdrawn {
        Action::Withdraw
    } else {
        Action::Move
    }
}

/// May a caller of this scope make this change of a trainee? A trainee
/// changes only its contact details; partner staff cannot move a trainee to
/// another institution.
pub fn may_change_trainee(
    scope: Scope,
    only_contact_details: bool,
    new_institution: Option<Uuid>,
) -> bool {
    match scope {
        Scope::Trainee(_) => only_contact_details,
        Scope::Institution(own) => new_institution.is_none_or(|i| i == own),
        _ => true,
    }
}

/// The smallest break-down count a caller may read in a dashboard: viewers
/// see counts below `min_cell` (and above 0) suppressed (SPEC §5); staff
/// see exact counts.
pub fn smallest_cell(principal: &Principal, min_cell: i64) -> i64 {
    match principal.role {
        Role::Viewer => min_cell,
        _ => 0,
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

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn every_pair_is_listed_at_most_once() {
        for (i, (r, a, _)) in TABLE.iter().enumerate() {
            assert!(
                !TABLE[i + 1..].iter().any(|(r2, a2, _)| r2 == r && a2 == a),
                "{r:?} {a:?} is listed twice"
            );
        }
    }

    #[test]
    fn viewers_never_reach_personal_data() {
        for resource in [
            Resource::Trainee,
            Resource::Enrollment,
            Resource::Venture,
            Resource::Exchange,
            Resource::User,
            Resource::Notification,
            Resource::Session,
        ] {
            for action in Action::VARIANTS {
                assert_eq!(access(Role::Viewer, resource, *action), Access::Deny);
            }
        }
    }
}
