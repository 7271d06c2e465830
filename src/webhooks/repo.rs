//! The SQL of webhook subscriptions.

use crate::db::Prepare;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::{
    delivery::{self, WebhookDelivery},
    model::Subscription,
};
use crate::{
    audit::{self, Actor},
    auth::policy::Scope,
    error::AppResult,
    schema::webhook_subscriptions,
    store::Record,
};

crate::list_filter! {
    /// Filters of `GET /webhooks`.
    pub struct Filter on webhook_subscriptions {
        search: ["url", "description"],
        columns: { active: bool, institution_id: Uuid },
    }
}

crate::collection!(
    Subscription: Webhook at "/webhooks" in webhook_subscriptions,
    kind = "webhook",
);

/// Makes a delivery of a subscription in scope due now, with its audit
/// record; 404 when either is missing or out of scope.
pub async fn retry(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    scope: Scope,
    id: Uuid,
    delivery_id: Uuid,
) -> AppResult<WebhookDelivery> {
    use diesel_async::AsyncConnection;
    conn.transaction(async |conn| {
        <Subscription as Record>::find(conn, scope, id).await?;
        let again = delivery::retry(conn, id, delivery_id).await?;
        let changes = json!({ "delivery_id": delivery_id });
        audit::record(conn, actor.clone(), "webhook", "retry", id, changes).await?;
        Ok(again)
    })
    .await
}

/// A new signing secret for a subscription in scope; the old one stops
/// signing at once.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    scope: Scope,
    id: Uuid,
    secret: &str,
) -> AppResult<()> {
    use diesel_async::AsyncConnection;
    conn.transaction(async |conn| {
        <Subscription as Record>::lock(conn, scope, id).await?;
        diesel::update(webhook_subscriptions::table.find(id))
            .set(webhook_subscriptions::secret.eq(secret))
            .prepared()
            .execute(conn)
            .await?;
        audit::record(
            conn,
            actor.clone(),
            "webhook",
            "rotate_secret",
            id,
            json!({}),
        )
        .await
    })
    .await
}
