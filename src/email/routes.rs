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
    error::{AppError, Conflict},
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

crate::endpoint! {
/// Lists queued, sent and failed emails, newest first.
get "/notifications", tag = "notifications",
params(CommonListParams, ("status" = Option<DeliveryStatus>, Query), ("template" = Option<String>, Query), ("recipient" = Option<String>, Query)),
ok((status = 200, body = Page<Notification>)), fails[422], may = Notification Read;
async fn list_notifications(call: Call, query: ListQuery) -> Answer {
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
}

crate::endpoint! {
/// Reads one email of the outbox.
get "/notifications/{id}", tag = "notifications", params(("id" = Uuid, Path)),
ok((status = 200, body = Notification)), fails[404], may = Notification Read;
async fn get_notification(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.conn().await?;
    let row: NotificationRow = notifications::table
        .find(*id)
        .select(NotificationRow::as_select())
        .first(&mut conn)
        .await?;
    api::record(&call.req, &Notification::from(row))
}
}

crate::endpoint! {
/// Queues a failed email again, with a fresh set of attempts.
post "/notifications/{id}/retry", tag = "notifications", params(("id" = Uuid, Path)),
ok((status = 200, body = Notification)), fails[404, 409: "Only failed emails can be retried"], may = Notification Update;
async fn retry_notification(call: Call, id: web::Path<Uuid>) -> Answer {
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
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_notifications)
        .service(get_notification)
        .service(retry_notification);
}
