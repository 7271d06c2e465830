//! The SQL and rules of service requests: a request names a service its
//! venture's incubator offers, and only programme staff are assigned.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{NewRequest, RequestChanges, RequestStatus, ServiceRequest};
use crate::{
    auth::{policy::Scope, scope},
    error::{AppError, AppResult},
    incubators::model::Service,
    schema::{incubators, service_requests, ventures},
};

crate::list_filter! {
    /// Filters of the lists of requests, of one venture or of all.
    pub struct Filter on service_requests {
        search: ["description"],
        columns: { status: RequestStatus, service: Service },
    }
}

/// Service requests narrowed by the list filters, of one venture or of all.
pub fn filtered(
    f: &Filter,
    venture_id: Option<Uuid>,
) -> service_requests::BoxedQuery<
    'static,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ServiceRequest, diesel::pg::Pg>>,
> {
    let query = service_requests::table.select(ServiceRequest::as_select());
    let mut q = f.narrow(query.into_boxed(), Scope::All);
    if let Some(v) = venture_id {
        q = q.filter(service_requests::venture_id.eq(v));
    }
    q
}

/// The service is offered by the venture's incubator, and the assignee is
/// staff.
async fn offered_and_assignable(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    new: &NewRequest,
) -> AppResult<()> {
    if let Some(assignee) = new.assignee_id {
        scope::require_staff(conn, scope, "assignee_id", assignee).await?;
    }
    let incubator = ventures::table
        .filter(ventures::id.eq(new.venture_id))
        .select(ventures::incubator_id);
    let offered: Vec<String> = incubators::table
        .filter(incubators::id.eq_any(incubator))
        .select(incubators::services)
        .first(conn)
        .await?;
    if offered.iter().any(|s| s == <&str>::from(new.service)) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "service",
            "is not offered by the venture's incubator",
        ))
    }
}

/// A new assignee is staff.
async fn reassignable(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    _: &ServiceRequest,
    changes: &RequestChanges,
) -> AppResult<()> {
    match changes.assignee_id {
        Some(Some(assignee)) => scope::require_staff(conn, scope, "assignee_id", assignee).await,
        _ => Ok(()),
    }
}

crate::table_record!(
    ServiceRequest [], service_requests, ServiceRequest,
    kind = "service_request",
    check_new = offered_and_assignable,
    check_changes = reassignable,
    created = crate::store::started,
);

// Service requests move as the incubator's staff work on them.
crate::status_moving!(ServiceRequest, service_requests, RequestStatus);
