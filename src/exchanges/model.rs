//! Exchange agreements and exchanges: records, lifecycle, input rules.

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    lifecycle::Lifecycle,
    schema::{exchange_agreements, exchanges},
    types::{Money, Name, Stored},
};

crate::text_enum! {
    /// What kind of move between institutions an exchange is.
    pub enum ExchangeKind {
        VisitingScholar,
        Fellowship,
        Internship,
        JointResearch,
        StaffSecondment,
    }
}

crate::text_enum! {
    /// Whether an agreement still allows exchanges.
    pub enum AgreementStatus {
        Active,
        Terminated,
    }
}

crate::text_enum! {
    /// Where an exchange stands: proposed → approved, rejected, cancelled;
    /// approved → in_progress, cancelled; in_progress → completed, cancelled.
    pub enum ExchangeStatus {
        Proposed,
        Approved,
        Rejected,
        Cancelled,
        InProgress,
        Completed,
    }
}

impl Lifecycle for ExchangeStatus {
    fn next(self) -> &'static [Self] {
        use ExchangeStatus::*;
        match self {
            Proposed => &[Approved, Rejected, Cancelled],
            Approved => &[InProgress, Cancelled],
            InProgress => &[Completed, Cancelled],
            Rejected | Cancelled | Completed => &[],
        }
    }
}

/// Statuses that use a place of an agreement's yearly quota.
pub const USING_QUOTA: [ExchangeStatus; 3] = [
    ExchangeStatus::Approved,
    ExchangeStatus::InProgress,
    ExchangeStatus::Completed,
];

/// A bilateral agreement between two institutions in different countries.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = exchange_agreements)]
pub struct Agreement {
    pub id: Uuid,
    pub institution_a_id: Uuid,
    pub institution_b_id: Uuid,
    pub title: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Exchange kinds it covers.
    pub kinds: Vec<String>,
    /// Exchanges per direction and calendar year.
    pub annual_quota: i32,
    pub status: AgreementStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The body of `POST` and `PATCH /exchange-agreements`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AgreementInput {
    #[serde(default)]
    pub(crate) institution_a_id: Field<Uuid>,
    #[serde(default)]
    pub(crate) institution_b_id: Field<Uuid>,
    #[serde(default)]
    title: Field<Name>,
    #[serde(default)]
    valid_from: Field<NaiveDate>,
    #[serde(default)]
    valid_to: Field<NaiveDate>,
    #[serde(default)]
    kinds: Field<Vec<ExchangeKind>>,
    #[serde(default)]
    annual_quota: Field<i32>,
    /// `terminated` ends it.
    #[serde(default)]
    status: Field<AgreementStatus>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = exchange_agreements)]
pub struct NewAgreement {
    pub id: Uuid,
    pub institution_a_id: Uuid,
    pub institution_b_id: Uuid,
    pub title: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub kinds: Vec<String>,
    pub annual_quota: i32,
    pub status: AgreementStatus,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = exchange_agreements)]
pub struct AgreementChanges {
    pub title: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub kinds: Option<Vec<String>>,
    pub annual_quota: Option<i32>,
    pub status: Option<AgreementStatus>,
}

impl crate::api::collection::Input for AgreementInput {
    type New = NewAgreement;
    type Changes = AgreementChanges;

    fn into_new(
        self,
        _: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewAgreement> {
        let mut c = Checker::new(&self.unknown);
        let a = c.required("institution_a_id", self.institution_a_id);
        let b = c.required("institution_b_id", self.institution_b_id);
        let title = c.required("title", self.title);
        let from = c.required("valid_from", self.valid_from);
        let to = c.required("valid_to", self.valid_to);
        let kinds = c.required("kinds", self.kinds);
        let quota = c.required("annual_quota", self.annual_quota);
        let status = c.defaulted("status", self.status, AgreementStatus::Active);
        if let (Some(f), Some(t)) = (from, to) {
            c.ensure(f <= t, "valid_to", "must not be before valid_from");
        }
        if let Some(k) = &kinds {
            c.ensure(!k.is_empty(), "kinds", "must name at least one kind");
        }
        if let Some(q) = quota {
            c.ensure(q > 0, "annual_quota", "must be greater than 0");
        }
        c.finish(|| {
            Some(NewAgreement {
                id: Uuid::now_v7(),
                institution_a_id: a?,
                institution_b_id: b?,
                title: title?.into_inner(),
                valid_from: from?,
                valid_to: to?,
                kinds: Stored::stored(kinds?),
                annual_quota: quota?,
                status,
            })
        })
    }

    fn into_changes(self) -> crate::error::AppResult<AgreementChanges> {
        let mut c = Checker::new(&self.unknown);
        for (name, absent) in [
            (
                "institution_a_id",
                matches!(self.institution_a_id, Field::Absent),
            ),
            (
                "institution_b_id",
                matches!(self.institution_b_id, Field::Absent),
            ),
        ] {
            if !absent {
                c.error(name, "cannot be changed");
            }
        }
        let changes = AgreementChanges {
            title: c
                .patch("title", self.title)
                .into_option()
                .map(Name::into_inner),
            valid_from: c.patch("valid_from", self.valid_from).into_option(),
            valid_to: c.patch("valid_to", self.valid_to).into_option(),
            kinds: c.patch("kinds", self.kinds).into_option().map(Stored::stored),
            annual_quota: c.patch("annual_quota", self.annual_quota).into_option(),
            status: c.patch("status", self.status).into_option(),
        };
        if changes.kinds.as_ref().is_some_and(Vec::is_empty) {
            c.error("kinds", "must name at least one kind");
        }
        if changes.annual_quota.is_some_and(|q| q <= 0) {
            c.error("annual_quota", "must be greater than 0");
        }
        c.finish(|| Some(changes))
    }
}

/// A move of a person between two institutions in different countries.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = exchanges)]
pub struct Exchange {
    pub id: Uuid,
    pub kind: ExchangeKind,
    pub trainee_id: Uuid,
    pub sending_institution_id: Uuid,
    pub receiving_institution_id: Uuid,
    pub agreement_id: Option<Uuid>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// US dollars, a decimal string.
    #[schema(value_type = Option<String>)]
    pub funding_usd: Option<BigDecimal>,
    pub status: ExchangeStatus,
    pub proposed_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The body of `POST` and `PATCH /exchanges`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExchangeInput {
    #[serde(default)]
    kind: Field<ExchangeKind>,
    #[serde(default)]
    trainee_id: Field<Uuid>,
    #[serde(default)]
    sending_institution_id: Field<Uuid>,
    #[serde(default)]
    receiving_institution_id: Field<Uuid>,
    #[serde(default)]
    agreement_id: Field<Uuid>,
    #[serde(default)]
    starts_on: Field<NaiveDate>,
    #[serde(default)]
    ends_on: Field<NaiveDate>,
    #[serde(default)]
    funding_usd: Field<Money>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = exchanges)]
pub struct NewExchange {
    pub id: Uuid,
    pub kind: ExchangeKind,
    pub trainee_id: Uuid,
    pub sending_institution_id: Uuid,
    pub receiving_institution_id: Uuid,
    pub agreement_id: Option<Uuid>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub funding_usd: Option<BigDecimal>,
    pub proposed_by: Uuid,
}

/// A checked change of an exchange: its kind, dates, funding and agreement
/// (`null` clears the optional ones).
#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = exchanges)]
pub struct ExchangeChanges {
    pub kind: Option<ExchangeKind>,
    pub agreement_id: Option<Option<Uuid>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub funding_usd: Option<Option<BigDecimal>>,
}

impl ExchangeChanges {
    /// The exchange as it would be with these changes.
    pub fn merged(&self, e: &Exchange) -> Exchange {
        let mut after = e.clone();
        after.kind = self.kind.unwrap_or(e.kind);
        after.agreement_id = self.agreement_id.unwrap_or(e.agreement_id);
        after.starts_on = self.starts_on.unwrap_or(e.starts_on);
        after.ends_on = self.ends_on.unwrap_or(e.ends_on);
        after.funding_usd = self.funding_usd.clone().unwrap_or(e.funding_usd.clone());
        after
    }
}

impl crate::api::collection::Input for ExchangeInput {
    type New = NewExchange;
    type Changes = ExchangeChanges;

    /// Checks a proposal; its proposer is the caller.
    fn into_new(
        self,
        by: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewExchange> {
        let proposed_by = by.user_id;
        let mut c = Checker::new(&self.unknown);
        let kind = c.required("kind", self.kind);
        let trainee = c.required("trainee_id", self.trainee_id);
        let sending = c.required("sending_institution_id", self.sending_institution_id);
        let receiving = c.required("receiving_institution_id", self.receiving_institution_id);
        let agreement = c.optional("agreement_id", self.agreement_id);
        let starts = c.required("starts_on", self.starts_on);
        let ends = c.required("ends_on", self.ends_on);
        let funding = c.optional("funding_usd", self.funding_usd);
        if let (Some(s), Some(e)) = (starts, ends) {
            c.ensure(s <= e, "ends_on", "must not be before starts_on");
        }
        if let (Some(s), Some(r)) = (sending, receiving) {
            c.ensure(
                s != r,
                "receiving_institution_id",
                "must differ from the sending institution",
            );
        }
        c.finish(|| {
            Some(NewExchange {
                id: Uuid::now_v7(),
                kind: kind?,
                trainee_id: trainee?,
                sending_institution_id: sending?,
                receiving_institution_id: receiving?,
                agreement_id: agreement,
                starts_on: starts?,
                ends_on: ends?,
                funding_usd: funding.map(Money::into_inner),
                proposed_by,
            })
        })
    }

    /// Checks a change: the trainee and the two institutions of an exchange
    /// never change.
    fn into_changes(self) -> crate::error::AppResult<ExchangeChanges> {
        let mut c = Checker::new(&self.unknown);
        for (field, absent) in [
            ("trainee_id", matches!(self.trainee_id, Field::Absent)),
            (
                "sending_institution_id",
                matches!(self.sending_institution_id, Field::Absent),
            ),
            (
                "receiving_institution_id",
                matches!(self.receiving_institution_id, Field::Absent),
            ),
        ] {
            if !absent {
                c.error(field, "cannot be changed");
            }
        }
        let changes = ExchangeChanges {
            kind: c.patch("kind", self.kind).into_option(),
            agreement_id: c
                .patch_nullable("agreement_id", self.agreement_id)
                .into_option(),
            starts_on: c.patch("starts_on", self.starts_on).into_option(),
            ends_on: c.patch("ends_on", self.ends_on).into_option(),
            funding_usd: c
                .patch_nullable("funding_usd", self.funding_usd)
                .into_option()
                .map(|f| f.map(Money::into_inner)),
        };
        if let (Some(s), Some(e)) = (changes.starts_on, changes.ends_on) {
            c.ensure(s <= e, "ends_on", "must not be before starts_on");
        }
        c.finish(|| Some(changes))
    }
}
