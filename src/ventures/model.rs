//! Ventures: the record, its lifecycle and its input rules.

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    lifecycle::Lifecycle,
    programmes::model::Theme,
    schema::ventures,
    types::{CountryCode, LongText, Money, Name},
};

crate::text_enum! {
    /// Where a venture stands: applied → admitted, rejected; admitted →
    /// incubating, closed; incubating → graduated, exited, closed.
    pub enum VentureStatus {
        Applied,
        Admitted,
        Rejected,
        Incubating,
        Graduated,
        Exited,
        Closed,
    }
}

impl Lifecycle for VentureStatus {
    fn next(self) -> &'static [Self] {
        use VentureStatus::*;
        match self {
            Applied => &[Admitted, Rejected],
            Admitted => &[Incubating, Closed],
            Incubating => &[Graduated, Exited, Closed],
            Rejected | Graduated | Exited | Closed => &[],
        }
    }
}

impl VentureStatus {
    /// The states that hold one of the incubator's places.
    pub const HOLDING: [Self; 2] = [Self::Admitted, Self::Incubating];
}

/// A venture hosted by an incubator.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = ventures)]
pub struct Venture {
    pub id: Uuid,
    pub incubator_id: Uuid,
    pub name: String,
    pub theme: Theme,
    pub country_code: String,
    pub founder_trainee_ids: Vec<Uuid>,
    pub description: Option<String>,
    pub status: VentureStatus,
    pub admitted_on: Option<NaiveDate>,
    pub graduated_on: Option<NaiveDate>,
    pub jobs_created: i32,
    /// US dollars, a decimal string.
    #[schema(value_type = String)]
    pub funding_raised_usd: BigDecimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The body of `POST` and `PATCH /ventures`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VentureInput {
    /// Set at creation; cannot change.
    #[serde(default)]
    incubator_id: Field<Uuid>,
    #[serde(default)]
    name: Field<Name>,
    #[serde(default)]
    theme: Field<Theme>,
    #[serde(default)]
    country_code: Field<CountryCode>,
    #[serde(default)]
    pub(crate) founder_trainee_ids: Field<Vec<Uuid>>,
    #[serde(default)]
    description: Field<LongText>,
    #[serde(default)]
    jobs_created: Field<i32>,
    #[serde(default)]
    funding_raised_usd: Field<Money>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = ventures)]
pub struct NewVenture {
    pub id: Uuid,
    pub incubator_id: Uuid,
    pub name: String,
    pub theme: Theme,
    pub country_code: String,
    pub founder_trainee_ids: Vec<Uuid>,
    pub description: Option<String>,
    pub jobs_created: i32,
    pub funding_raised_usd: BigDecimal,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = ventures)]
pub struct VentureChanges {
    pub name: Option<String>,
    pub theme: Option<Theme>,
    pub country_code: Option<String>,
    pub founder_trainee_ids: Option<Vec<Uuid>>,
    pub description: Option<Option<String>>,
    pub jobs_created: Option<i32>,
    pub funding_raised_usd: Option<BigDecimal>,
}

fn dedup(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids.dedup();
    ids
}

impl crate::api::collection::Input for VentureInput {
    type New = NewVenture;
    type Changes = VentureChanges;

    fn into_new(
        self,
        _: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewVenture> {
        let mut c = Checker::new(&self.unknown);
        let incubator_id = c.required("incubator_id", self.incubator_id);
        let name = c.required("name", self.name);
        let theme = c.required("theme", self.theme);
        let country = c.required("country_code", self.country_code);
        let founders = c.defaulted("founder_trainee_ids", self.founder_trainee_ids, Vec::new());
        let description = c.optional("description", self.description);
        let jobs = c.defaulted("jobs_created", self.jobs_created, 0);
        let funding = c.optional("funding_raised_usd", self.funding_raised_usd);
        c.ensure(jobs >= 0, "jobs_created", "may not be negative");
        c.finish(|| {
            Some(NewVenture {
                id: Uuid::now_v7(),
                incubator_id: incubator_id?,
                name: name?.into_inner(),
                theme: theme?,
                country_code: country?.as_str(),
                founder_trainee_ids: dedup(founders),
                description: description.map(LongText::into_inner),
                jobs_created: jobs,
                funding_raised_usd: funding.map(Money::into_inner).unwrap_or_default(),
            })
        })
    }

    fn into_changes(self) -> crate::error::AppResult<VentureChanges> {
        let mut c = Checker::new(&self.unknown);
        if !matches!(self.incubator_id, Field::Absent) {
            c.error("incubator_id", "cannot be changed");
        }
        let changes = VentureChanges {
            name: c
                .patch("name", self.name)
                .into_option()
                .map(Name::into_inner),
            theme: c.patch("theme", self.theme).into_option(),
            country_code: c
                .patch("country_code", self.country_code)
                .into_option()
                .map(|c| c.as_str()),
            founder_trainee_ids: c
                .patch("founder_trainee_ids", self.founder_trainee_ids)
                .into_option()
                .map(dedup),
            description: c
                .patch_nullable("description", self.description)
                .into_option()
                .map(|d| d.map(LongText::into_inner)),
            jobs_created: c.patch("jobs_created", self.jobs_created).into_option(),
            funding_raised_usd: c
                .patch("funding_raised_usd", self.funding_raised_usd)
                .into_option()
                .map(Money::into_inner),
        };
        if let Some(j) = changes.jobs_created {
            c.ensure(j >= 0, "jobs_created", "may not be negative");
        }
        c.finish(|| Some(changes))
    }
}
