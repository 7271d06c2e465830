//! `/webhooks`: partner systems subscribe to the events of SPEC §4b. A
//! subscription's signing secret (Standard Webhooks, `whsec_…`) is shown
//! once, when it is made and when it is rotated. Its URL is https (or http
//! to a host of `webhooks.allow_http_hosts`) and never reaches an address
//! inside the network: checked when it is written, the host resolved.

pub mod delivery;
pub mod events;
pub mod model;
pub mod repo;
pub mod worker;

use actix_web::{delete, get, patch, post, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        self, collection,
        list::{self, ListParams, ListQuery},
        Answer, Versioned,
    },
    audit::Actor,
    auth::policy::{may, Action, Resource},
    error::{AppError, AppResult},
    store::{self, Record},
};
use delivery::WebhookDelivery;
use model::{Subscription, SubscriptionInput};

/// A subscription with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithSecret {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// Keep it: it is not shown again (rotate it to get a new one).
    pub secret: String,
}

impl Versioned for WithSecret {
    fn version(&self) -> i32 {
        self.subscription.version
    }
}

/// The secret after a rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Secret {
    pub secret: String,
}

/// 422 on `url` when its host resolves to an address inside the network
/// (unless the host is allowed); the literal address rules are the model's.
async fn check_resolved(url: &str, allowed: &[String]) -> AppResult<()> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(());
    };
    let Some(host) = parsed.host_str() else {
        return Ok(());
    };
    if allowed.iter().any(|h| h.eq_ignore_ascii_case(host))
        || host.parse::<std::net::IpAddr>().is_ok()
    {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    // A name that does not resolve now may later: it is checked again at
    // each delivery.
    let Ok(addresses) = tokio::net::lookup_host((host, port)).await else {
        return Ok(());
    };
    for address in addresses {
        if model::is_internal(address.ip()) {
            return Err(AppError::invalid(
                "url",
                "resolves to a private, loopback or link-local address",
            ));
        }
    }
    Ok(())
}

crate::endpoint! {
/// Lists the subscriptions: admins all, partner staff their institution's.
get "/webhooks", tag = "webhooks",
params(crate::api::list::CommonListParams, ("active" = Option<bool>, Query), ("institution_id" = Option<Uuid>, Query)),
ok((status = 200, body = crate::api::list::Page<Subscription>)), fails[422];
async fn list_webhooks(call: Call, query: ListQuery) -> Answer {
    collection::list::<Subscription>(&call, query).await
}
}

crate::endpoint! {
/// Subscribes a system to events; the answer carries the signing secret,
/// this once.
post "/webhooks", tag = "webhooks", body = SubscriptionInput,
ok((status = 201, body = WithSecret, headers(("Location" = String), ("ETag" = String)))), fails[422], may = Webhook Create as scope;
async fn create_webhook(call: Call, body: web::Json<SubscriptionInput>) -> Answer {
    let allowed = &call.state.settings.webhooks.allow_http_hosts;
    let new = body
        .into_inner()
        .into_new_with(&call.ctx.caller, scope, allowed)?;
    check_resolved(&new.url, allowed).await?;
    let secret = new.secret.clone();
    let mut conn = call.conn().await?;
    let created: Subscription =
        store::create(&mut conn, &Actor::from(&call.ctx), scope, new).await?;
    let location = format!("/api/v1/webhooks/{}", created.id);
    api::created(
        location,
        &WithSecret {
            subscription: created,
            secret,
        },
    )
}
}

crate::endpoint! {
/// Reads a subscription (never its secret).
get "/webhooks/{id}", tag = "webhooks",
params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
ok((status = 200, body = Subscription, headers(("ETag" = String))), (status = 304, description = "Not modified")), fails[404];
async fn get_webhook(call: Call, id: web::Path<Uuid>) -> Answer {
    collection::get::<Subscription>(&call, *id).await
}
}

crate::endpoint! {
/// Changes a subscription's URL, events, description or `active`.
patch "/webhooks/{id}", tag = "webhooks", body = SubscriptionInput,
params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
ok((status = 200, body = Subscription, headers(("ETag" = String)))), fails[404, 412, 422], may = Webhook Update as scope;
async fn update_webhook(
    call: Call,
    id: web::Path<Uuid>,
    body: web::Json<SubscriptionInput>,
) -> Answer {
    let expected = api::if_match(&call.req)?;
    let allowed = &call.state.settings.webhooks.allow_http_hosts;
    let changes = body.into_inner().into_changes_with(allowed)?;
    if let Some(url) = &changes.url {
        check_resolved(url, allowed).await?;
    }
    let mut conn = call.conn().await?;
    let actor = Actor::from(&call.ctx);
    let updated: Subscription =
        store::update(&mut conn, &actor, scope, *id, expected, changes).await?;
    api::record(&call.req, &updated)
}
}

crate::endpoint! {
/// Removes a subscription.
delete "/webhooks/{id}", tag = "webhooks",
params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
ok((status = 204, description = "Removed")), fails[404, 412];
async fn delete_webhook(call: Call, id: web::Path<Uuid>) -> Answer {
    collection::delete::<Subscription>(&call, *id).await
}
}

crate::endpoint! {
/// Replaces the signing secret; the answer carries the new one, this once.
post "/webhooks/{id}/rotate-secret", tag = "webhooks",
params(("id" = Uuid, Path)),
ok((status = 200, body = Secret)), fails[404], may = Webhook Update as scope;
async fn rotate_secret(call: Call, id: web::Path<Uuid>) -> Answer {
    let secret = model::new_secret();
    let mut conn = call.conn().await?;
    repo::rotate_secret(&mut conn, &Actor::from(&call.ctx), scope, *id, &secret).await?;
    api::ok(&Secret { secret })
}
}

crate::endpoint! {
/// The delivery log of a subscription, oldest first (`sort=-created_at`
/// for the latest): each delivery's status, attempts and last answer.
get "/webhooks/{id}/deliveries", tag = "webhooks",
params(("id" = Uuid, Path), crate::api::list::CommonListParams, ("status" = Option<String>, Query, description = "pending, delivered or failed"), ("event_type" = Option<String>, Query), ("record_id" = Option<Uuid>, Query)),
ok((status = 200, body = crate::api::list::Page<WebhookDelivery>)), fails[404, 422];
async fn list_deliveries(call: Call, id: web::Path<Uuid>, query: ListQuery) -> Answer {
    use crate::api::collection::Filter;
    let scope = may(&call.ctx.caller, Resource::Webhook, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), delivery::Filter::SPEC);
    let filter = delivery::Filter::read(&mut params);
    let params = params.finish()?;
    let mut conn = call.conn().await?;
    let id = Subscription::find(&mut conn, scope, *id).await?.id;
    let build = || delivery::of(id, &filter);
    api::page(&list::fetch(&mut conn, &params, build, |d: WebhookDelivery| d).await?)
}
}

crate::endpoint! {
/// Sends a delivery again, now, with the same `webhook-id`: one more
/// attempt, whatever its status.
post "/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
params(("id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
ok((status = 202, body = WebhookDelivery)), fails[404], may = Webhook Update as scope;
async fn retry_delivery(call: Call, path: web::Path<(Uuid, Uuid)>) -> Answer {
    let (id, delivery_id) = path.into_inner();
    let mut conn = call.conn().await?;
    let again = repo::retry(&mut conn, &Actor::from(&call.ctx), scope, id, delivery_id).await?;
    let mut res = api::ok(&again)?;
    *res.status_mut() = actix_web::http::StatusCode::ACCEPTED;
    Ok(res)
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_secret)
        .service(list_deliveries)
        .service(retry_delivery);
}
