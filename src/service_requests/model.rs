//! A venture's request for one of its incubator's services, its lifecycle
//! and the body that creates or changes it.

use uuid::Uuid;

use crate::{api::input::Field, incubators::model::Service, lifecycle::Lifecycle, types::LongText};

crate::text_enum! {
    /// open → in_progress, declined; in_progress → resolved, declined.
    pub enum RequestStatus {
        Open,
        InProgress,
        Resolved,
        Declined,
    }
}

impl Lifecycle for RequestStatus {
    fn next(self) -> &'static [Self] {
        use RequestStatus::*;
        match self {
            Open => &[InProgress, Declined],
            InProgress => &[Resolved, Declined],
            Resolved | Declined => &[],
        }
    }
}

crate::record! {
    /// A venture's request for one of its incubator's services.
    pub struct ServiceRequest in service_requests;
    /// The body of a service request; its service is never changed, `null`
    /// unassigns it.
    pub struct RequestInput => NewRequest, RequestChanges, given venture_id: Uuid;
    set {
        venture_id: Uuid = venture_id,
    }
    fixed {
        service: Service => Service,
    }
    fields {
        description: String => LongText [required],
        assignee_id: Option<Uuid> => Uuid [optional],
    }
    kept {
        status: RequestStatus,
    }
}
