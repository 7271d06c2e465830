//! A venture's request for one of its incubator's services, its lifecycle
//! and the body that creates or changes it.

use chrono::{DateTime, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    error::AppResult,
    incubators::model::Service,
    lifecycle::Lifecycle,
    schema::service_requests,
    types::LongText,
};

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

/// A venture's request for one of its incubator's services.
#[derive(Debug, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = service_requests)]
pub struct ServiceRequest {
    pub id: Uuid,
    pub venture_id: Uuid,
    pub service: Service,
    pub description: String,
    pub status: RequestStatus,
    pub assignee_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The body of a service request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestInput {
    #[serde(default)]
    service: Field<Service>,
    #[serde(default)]
    description: Field<LongText>,
    #[serde(default)]
    assignee_id: Field<Uuid>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// A checked new request.
#[derive(Debug, Insertable)]
#[diesel(table_name = service_requests)]
pub struct NewRequest {
    pub id: Uuid,
    pub venture_id: Uuid,
    pub service: Service,
    pub description: String,
    pub assignee_id: Option<Uuid>,
}

/// A checked change: a new description or assignee (`null` unassigns).
#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = service_requests)]
pub struct RequestChanges {
    pub description: Option<String>,
    pub assignee_id: Option<Option<Uuid>>,
}

impl RequestInput {
    /// Checks a new request of a venture.
    pub fn into_new(self, venture_id: Uuid) -> AppResult<NewRequest> {
        let mut c = Checker::new(&self.unknown);
        let service = c.required("service", self.service);
        let description = c.required("description", self.description);
        let assignee_id = c.optional("assignee_id", self.assignee_id);
        c.finish(|| {
            Some(NewRequest {
                id: Uuid::now_v7(),
                venture_id,
                service: service?,
                description: description?.into_inner(),
                assignee_id,
            })
        })
    }

    /// Checks a change; the service of a request is never changed.
    pub fn into_changes(self) -> AppResult<RequestChanges> {
        let mut c = Checker::new(&self.unknown);
        if !matches!(self.service, Field::Absent) {
            c.error("service", "cannot be changed");
        }
        let changes = RequestChanges {
            description: c
                .patch("description", self.description)
                .into_option()
                .map(LongText::into_inner),
            assignee_id: c
                .patch_nullable("assignee_id", self.assignee_id)
                .into_option(),
        };
        c.finish(|| Some(changes))
    }
}
