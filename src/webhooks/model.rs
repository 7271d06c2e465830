//! Webhook subscriptions: the record, its input rules, and the events a
//! subscription may ask for.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    auth::{policy::Scope, Principal},
    error::AppResult,
    schema::webhook_subscriptions,
    types::LongText,
};

/// The events there are (SPEC §4b): a lifecycle's moves by target state,
/// and single events.
pub fn event_types() -> Vec<String> {
    use strum::VariantArray;
    fn moves<S: Copy + Into<&'static str> + VariantArray>(kind: &str) -> Vec<String> {
        S::VARIANTS
            .iter()
            .map(|s| format!("{kind}.{}", (*s).into()))
            .collect()
    }
    let mut all = Vec::new();
    all.extend(moves::<crate::enrollments::model::EnrollmentStatus>(
        "enrollment",
    ));
    all.extend(moves::<crate::exchanges::model::ExchangeStatus>("exchange"));
    all.extend(moves::<crate::ventures::model::VentureStatus>("venture"));
    all.extend(moves::<crate::cohorts::model::CohortStatus>("cohort"));
    all.extend(
        [
            "certificate.issued",
            "certificate.revoked",
            "trainee.created",
            "trainee.updated",
            "trainee.deleted",
            "agreement.created",
            "agreement.updated",
            "resource.published",
        ]
        .map(String::from),
    );
    all
}

/// A partner system that hears of changes.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = webhook_subscriptions)]
pub struct Subscription {
    pub id: Uuid,
    pub url: String,
    /// Event types, or `*` for every one.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    /// A partner's subscription: it hears only of its institution's records.
    pub institution_id: Option<Uuid>,
    pub created_by: Uuid,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// Since when its deliveries have failed without a success, if they
    /// have: after three days of it, the subscription is turned off.
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub failing_since: Option<DateTime<Utc>>,
}

/// The body of `POST` and `PATCH /webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionInput {
    /// https, or http to a host of `webhooks.allow_http_hosts`.
    #[serde(default)]
    #[schema(value_type = String)]
    url: Field<String>,
    #[serde(default)]
    events: Field<Vec<String>>,
    #[serde(default)]
    description: Field<LongText>,
    #[serde(default)]
    active: Field<bool>,
    /// Admins may name one; partner staff's is their own.
    #[serde(default)]
    institution_id: Field<Uuid>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_subscriptions)]
pub struct NewSubscription {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub institution_id: Option<Uuid>,
    pub secret: String,
    pub created_by: Uuid,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = webhook_subscriptions)]
pub struct SubscriptionChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

impl crate::api::record::Forms for Subscription {
    type Input = SubscriptionInput;
    type New = NewSubscription;
    type Changes = SubscriptionChanges;
}

/// A new signing secret in the Standard Webhooks format: `whsec_` and 32
/// random bytes in base64.
pub fn new_secret() -> String {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// Why a URL may not be called, if it may not: not https (unless its host
/// is allowed plain http), or an address inside the network.
pub fn url_refusal(raw: &str, allow_http_hosts: &[String]) -> Option<&'static str> {
    let Ok(url) = url::Url::parse(raw.trim()) else {
        return Some("must be an absolute https URL");
    };
    let Some(host) = url.host_str() else {
        return Some("must be an absolute https URL");
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let allowed = allow_http_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host));
    match url.scheme() {
        "https" => {}
        "http" if allowed => {}
        _ => return Some("must be an https URL"),
    }
    if raw.len() > 500 {
        return Some("must be at most 500 characters");
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if !allowed && is_internal(ip) => {
            Some("may not point at a private, loopback or link-local address")
        }
        _ => None,
    }
}

/// Addresses a subscription may never reach: loopback, private, link-local,
/// shared, unspecified, multicast, documentation, and their IPv6 kin.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// The events asked for: known types or `*`, at least one.
fn check_events(c: &mut Checker, events: &[String]) {
    let known = event_types();
    c.ensure(
        !events.is_empty(),
        "events",
        "must name at least one event type, or *",
    );
    if let Some(bad) = events.iter().find(|e| *e != "*" && !known.contains(e)) {
        c.error("events", format!("{bad} is not an event type"));
    }
}

fn names(mut events: Vec<String>) -> Vec<String> {
    events.sort();
    events.dedup();
    events
}

impl SubscriptionInput {
    /// Checks a POST body of `by`; `allow_http_hosts` is the setting.
    pub fn into_new_with(
        self,
        by: &Principal,
        scope: Scope,
        allow_http_hosts: &[String],
    ) -> AppResult<NewSubscription> {
        let mut c = Checker::new(&self.unknown);
        let url = c.required("url", self.url);
        let events = c.required("events", self.events);
        let description = c.optional("description", self.description);
        let active = c.defaulted("active", self.active, true);
        let institution_id = match scope {
            Scope::Institution(own) => {
                let asked = c.optional("institution_id", self.institution_id);
                c.ensure(
                    asked.is_none_or(|i| i == own),
                    "institution_id",
                    "refers to a record that does not exist",
                );
                Some(own)
            }
            _ => c.optional("institution_id", self.institution_id),
        };
        if let Some(url) = &url {
            if let Some(why) = url_refusal(url, allow_http_hosts) {
                c.error("url", why);
            }
        }
        if let Some(events) = &events {
            check_events(&mut c, events);
        }
        c.finish(|| {
            Some(NewSubscription {
                id: Uuid::now_v7(),
                url: url?.trim().to_string(),
                events: names(events?),
                description: description.map(LongText::into_inner),
                active,
                institution_id,
                secret: new_secret(),
                created_by: by.user_id,
            })
        })
    }

    /// Checks a PATCH body.
    pub fn into_changes_with(self, allow_http_hosts: &[String]) -> AppResult<SubscriptionChanges> {
        let mut c = Checker::new(&self.unknown);
        c.ensure(
            matches!(self.institution_id, Field::Absent),
            "institution_id",
            "cannot be changed",
        );
        let changes = SubscriptionChanges {
            url: c.patch("url", self.url).into_option(),
            events: c.patch("events", self.events).into_option(),
            description: c
                .patch_nullable("description", self.description)
                .into_option()
                .map(|d| d.map(LongText::into_inner)),
            active: c.patch("active", self.active).into_option(),
        };
        if let Some(url) = &changes.url {
            if let Some(why) = url_refusal(url, allow_http_hosts) {
                c.error("url", why);
            }
        }
        if let Some(events) = &changes.events {
            check_events(&mut c, events);
        }
        let changes = SubscriptionChanges {
            url: changes.url.map(|u| u.trim().to_string()),
            events: changes.events.map(names),
            ..changes
        };
        c.finish(|| Some(changes))
    }
}

/// The strictest reading of a body (no host allowed plain http): what the
/// generic collection would use. The routes of this module pass
/// `webhooks.allow_http_hosts` instead.
impl crate::api::collection::Input for SubscriptionInput {
    type New = NewSubscription;
    type Changes = SubscriptionChanges;

    fn into_new(self, by: &Principal, scope: Scope) -> AppResult<NewSubscription> {
        self.into_new_with(by, scope, &[])
    }

    fn into_changes(self) -> AppResult<SubscriptionChanges> {
        self.into_changes_with(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_inside_the_network_are_refused_unless_allowed() {
        let none: Vec<String> = Vec::new();
        for url in [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
            "https://192.168.0.9/hook",
            "http://partner.example.org/hook",
            "ftp://partner.example.org/hook",
        ] {
            assert!(url_refusal(url, &none).is_some(), "{url}");
        }
        assert!(url_refusal("https://partner.example.org/hook", &none).is_none());
        assert!(url_refusal("https://8.8.8.8/hook", &none).is_none());
        let allowed = vec!["127.0.0.1".to_string()];
        assert!(url_refusal("http://127.0.0.1:9000/hook", &allowed).is_none());
    }

    #[test]
    fn secrets_are_in_the_standard_webhooks_format() {
        let s = new_secret();
        assert!(s.starts_with("whsec_") && s.len() == 6 + 44, "{s}");
        assert_ne!(s, new_secret());
    }
}
