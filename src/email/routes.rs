//! The outbox for admins: list, read, retry failed emails.

use actix_web::{get, post, web};
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::outbox::{self, Notification, NotificationRow};
use crate::{
    api::{
        self,
        list::{self, CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
        Answer,
    },
    audit,
    auth::policy::{may, Action, Resource},
    auth::Call,
    error::{AppError, Conflict, Problem},
    schema::notifications,
};

static LIST: ListSpec = ListSpec {
    sorts: &[
        SortField::new("created_at", "timestamptz"),
        SortField::new("updated_at", "timestamptz"),
    ],
    default_sort: "-created_at",
    search: &[],
    filters: &["status", "template", "recipient"],
    updated_column: Some("updated_at"),
};

/// Delivery states of the outbox.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

/// Lists queued, sent and failed emails, newest first.
#[utoipa::path(
    tag = "notifications",
    params(
        CommonListParams,
        ("status" = Option<DeliveryStatus>, Query),
        ("template" = Option<String>, Query),
        ("recipient" = Option<String>, Query),
    ),
    responses(
        (status = 200, body = Page<Notification>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/notifications")]
async fn list_notifications(call: Call, query: ListQuery) -> Answer {
    may(&call.ctx.caller, Resource::Notification, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let status: Option<DeliveryStatus> = params.filter("status");
    let template: Option<String> = params.filter("template");
    let recipient: Option<String> = params.filter("recipient");
    let params = params.finish()?;
    let build = || {
        let mut q = notifications::table
            .select(NotificationRow::as_select())
            .into_boxed();
        if let Some(s) = status {
            q = q.filter(notifications::status.eq(<&'static str>::from(s)));
        }
        if let Some(t) = &template {
            q = q.filter(notifications::template.eq(t.clone()));
        }
        if let Some(r) = &recipient {
            q = q.filter(notifications::recipient.eq(r.to_lowercase()));
        }
        q
    };
    let mut conn = call.conn().await?;
    api::page(&list::fetch(&mut conn, &params, build, Notification::from).await?)
}

/// Reads one email of the outbox.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Notification),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/notifications/{id}")]
async fn get_notification(call: Call, id: web::Path<Uuid>) -> Answer {
    may(&call.ctx.caller, Resource::Notification, Action::Read)?;
    let mut conn = call.conn().await?;
    let row: NotificationRow = notifications::table
        .find(*id)
        .select(NotificationRow::as_select())
        .first(&mut conn)
        .await?;
    api::record(&call.req, &Notification::from(row))
}

/// Queues a failed email again, with a fresh set of attempts.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Notification),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Only failed emails can be retried"),
    ),
    security(("bearer" = []))
)]
#[post("/notifications/{id}/retry")]
async fn retry_notification(call: Call, id: web::Path<Uuid>) -> Answer {
    may(&call.ctx.caller, Resource::Notification, Action::Update)?;
    let id = *id;
    let mut conn = call.conn().await?;
    let row = conn
        .transaction(async |conn| {
            let Some(row) = outbox::retry(conn, id).await? else {
                // Tell a missing row from one that is not failed.
                notifications::table
                    .find(id)
                    .select(notifications::id)
                    .first::<Uuid>(conn)
                    .await?;
                return Err(AppError::conflict(
                    Conflict::NotFailed,
                    "Only failed emails can be retried.",
                ));
            };
            audit::record(
                conn,
                &call.ctx,
                "notification",
                "retry",
                id,
                serde_json::json!({}),
            )
            .await?;
            Ok(row)
        })
        .await?;
    api::record(&call.req, &Notification::from(row))
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_notifications)
        .service(get_notification)
        .service(retry_notification);
}
