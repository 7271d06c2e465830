//! Incubators: the record and its input rules.

use chrono::{DateTime, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    programmes::model::Theme,
    schema::incubators,
    types::{CountryCode, Name, ShortText},
};

crate::text_enum! {
    /// What an incubator offers its ventures.
    pub enum Service {
        Legal,
        Technical,
        CapitalMatching,
        Mentoring,
        Compute,
        MarketAccess,
    }
}

crate::text_enum! {
    /// Whether an incubator takes ventures.
    pub enum IncubatorStatus {
        Active,
        Closed,
    }
}

/// An AI incubator hosted by an institution.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = incubators)]
pub struct Incubator {
    pub id: Uuid,
    pub name: String,
    pub host_institution_id: Uuid,
    pub country_code: String,
    pub city: Option<String>,
    pub themes: Vec<String>,
    /// Ventures admitted or incubating at once.
    pub capacity: i32,
    pub services: Vec<String>,
    pub status: IncubatorStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The body of `POST` and `PATCH /incubators`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IncubatorInput {
    #[serde(default)]
    name: Field<Name>,
    #[serde(default)]
    host_institution_id: Field<Uuid>,
    #[serde(default)]
    country_code: Field<CountryCode>,
    #[serde(default)]
    city: Field<ShortText>,
    #[serde(default)]
    themes: Field<Vec<Theme>>,
    #[serde(default)]
    capacity: Field<i32>,
    #[serde(default)]
    services: Field<Vec<Service>>,
    #[serde(default)]
    status: Field<IncubatorStatus>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = incubators)]
pub struct NewIncubator {
    pub id: Uuid,
    pub name: String,
    pub host_institution_id: Uuid,
    pub country_code: String,
    pub city: Option<String>,
    pub themes: Vec<String>,
    pub capacity: i32,
    pub services: Vec<String>,
    pub status: IncubatorStatus,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = incubators)]
pub struct IncubatorChanges {
    pub name: Option<String>,
    pub host_institution_id: Option<Uuid>,
    pub country_code: Option<String>,
    pub city: Option<Option<String>>,
    pub themes: Option<Vec<String>>,
    pub capacity: Option<i32>,
    pub services: Option<Vec<String>>,
    pub status: Option<IncubatorStatus>,
}

/// Names of a list of string enums, without repeats.
pub fn names<T: Into<&'static str> + Copy>(items: Vec<T>) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|i| (*i).into().to_string()).collect();
    out.sort();
    out.dedup();
    out
}

impl crate::api::collection::Input for IncubatorInput {
    type New = NewIncubator;
    type Changes = IncubatorChanges;

    fn into_new(
        self,
        _: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewIncubator> {
        let mut c = Checker::new(&self.unknown);
        let name = c.required("name", self.name);
        let host = c.required("host_institution_id", self.host_institution_id);
        let country = c.required("country_code", self.country_code);
        let city = c.optional("city", self.city);
        let themes = c.defaulted("themes", self.themes, Vec::new());
        let capacity = c.required("capacity", self.capacity);
        let services = c.defaulted("services", self.services, Vec::new());
        let status = c.defaulted("status", self.status, IncubatorStatus::Active);
        if let Some(n) = capacity {
            c.ensure(n > 0, "capacity", "must be greater than 0");
        }
        c.finish(|| {
            Some(NewIncubator {
                id: Uuid::now_v7(),
                name: name?.into_inner(),
                host_institution_id: host?,
                country_code: country?.as_str(),
                city: city.map(ShortText::into_inner),
                themes: names(themes),
                capacity: capacity?,
                services: names(services),
                status,
            })
        })
    }

    fn into_changes(self) -> crate::error::AppResult<IncubatorChanges> {
        let mut c = Checker::new(&self.unknown);
        let changes = IncubatorChanges {
            name: c
                .patch("name", self.name)
                .into_option()
                .map(Name::into_inner),
            host_institution_id: c
                .patch("host_institution_id", self.host_institution_id)
                .into_option(),
            country_code: c
                .patch("country_code", self.country_code)
                .into_option()
                .map(|c| c.as_str()),
            city: c
                .patch_nullable("city", self.city)
                .into_option()
                .map(|v| v.map(ShortText::into_inner)),
            themes: c.patch("themes", self.themes).into_option().map(names),
            capacity: c.patch("capacity", self.capacity).into_option(),
            services: c.patch("services", self.services).into_option().map(names),
            status: c.patch("status", self.status).into_option(),
        };
        if let Some(n) = changes.capacity {
            c.ensure(n > 0, "capacity", "must be greater than 0");
        }
        c.finish(|| Some(changes))
    }
}
