//! Institutions: the record, its API shape and the rules of its input.

use chrono::{DateTime, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Patch, Unknown},
    schema::institutions,
    types::{CountryCode, Email, Name, ShortText, WebUrl},
};

crate::text_enum! {
    /// What kind of body an institution is.
    pub enum InstitutionKind {
        University,
        ResearchInstitute,
        Company,
        Government,
        Ngo,
        IncubatorOperator,
        Other,
    }
}

crate::text_enum! {
    /// Whether an institution takes part in programmes now.
    pub enum InstitutionStatus {
        Active,
        Suspended,
    }
}

/// A row of `institutions`.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = institutions)]
pub struct InstitutionRow {
    pub id: Uuid,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: InstitutionKind,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub city: Option<String>,
    pub website: Option<String>,
    pub contact_email: Option<String>,
    pub status: InstitutionStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows on every change; the ETag.
    pub version: i32,
}

/// A partner institution, as the API shows it: the row and the UN M49
/// region and sub-region of its country.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Institution {
    #[serde(flatten)]
    pub row: InstitutionRow,
    /// UN M49 region of the country, e.g. `africa`.
    pub region: Option<String>,
    /// UN M49 sub-region of the country, e.g. `eastern-africa`.
    pub subregion: Option<String>,
}

impl From<InstitutionRow> for Institution {
    fn from(row: InstitutionRow) -> Self {
        let country = CountryCode::parse(&row.country_code).ok();
        Institution {
            region: country.and_then(|c| c.region()),
            subregion: country.and_then(|c| c.subregion()),
            row,
        }
    }
}

/// The body of `POST` and `PATCH /institutions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InstitutionInput {
    #[serde(default)]
    name: Field<Name>,
    #[serde(default)]
    short_name: Field<ShortText>,
    #[serde(default)]
    kind: Field<InstitutionKind>,
    #[serde(default)]
    country_code: Field<CountryCode>,
    #[serde(default)]
    city: Field<ShortText>,
    #[serde(default)]
    website: Field<WebUrl>,
    #[serde(default)]
    contact_email: Field<Email>,
    /// Defaults to `active`.
    #[serde(default)]
    status: Field<InstitutionStatus>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// A checked new institution.
#[derive(Debug, Insertable)]
#[diesel(table_name = institutions)]
pub struct NewInstitution {
    pub id: Uuid,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: InstitutionKind,
    pub country_code: String,
    pub city: Option<String>,
    pub website: Option<String>,
    pub contact_email: Option<String>,
    pub status: InstitutionStatus,
}

/// A checked change to an institution.
#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = institutions)]
pub struct InstitutionChanges {
    pub name: Option<String>,
    pub short_name: Option<Option<String>>,
    pub kind: Option<InstitutionKind>,
    pub country_code: Option<String>,
    pub city: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub contact_email: Option<Option<String>>,
    pub status: Option<InstitutionStatus>,
}

fn inner<T, U>(p: Patch<Option<T>>, f: impl Fn(T) -> U) -> Option<Option<U>> {
    p.into_option().map(|v| v.map(f))
}

impl crate::api::collection::Input for InstitutionInput {
    type New = NewInstitution;
    type Changes = InstitutionChanges;

    /// Checks a body for a create.
    fn into_new(
        self,
        _: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewInstitution> {
        let mut c = Checker::new(&self.unknown);
        let name = c.required("name", self.name);
        let short_name = c.optional("short_name", self.short_name);
        let kind = c.required("kind", self.kind);
        let country = c.required("country_code", self.country_code);
        let city = c.optional("city", self.city);
        let website = c.optional("website", self.website);
        let contact_email = c.optional("contact_email", self.contact_email);
        let status = c.defaulted("status", self.status, InstitutionStatus::Active);
        c.finish(|| {
            Some(NewInstitution {
                id: Uuid::now_v7(),
                name: name?.into_inner(),
                short_name: short_name.map(ShortText::into_inner),
                kind: kind?,
                country_code: country?.as_str(),
                city: city.map(ShortText::into_inner),
                website: website.map(WebUrl::into_inner),
                contact_email: contact_email.map(Email::into_inner),
                status,
            })
        })
    }

    /// Checks a body for an update.
    fn into_changes(self) -> crate::error::AppResult<InstitutionChanges> {
        let mut c = Checker::new(&self.unknown);
        let changes = InstitutionChanges {
            name: c
                .patch("name", self.name)
                .into_option()
                .map(Name::into_inner),
            short_name: inner(
                c.patch_nullable("short_name", self.short_name),
                ShortText::into_inner,
            ),
            kind: c.patch("kind", self.kind).into_option(),
            country_code: c
                .patch("country_code", self.country_code)
                .into_option()
                .map(|c| c.as_str()),
            city: inner(c.patch_nullable("city", self.city), ShortText::into_inner),
            website: inner(
                c.patch_nullable("website", self.website),
                WebUrl::into_inner,
            ),
            contact_email: inner(
                c.patch_nullable("contact_email", self.contact_email),
                Email::into_inner,
            ),
            status: c.patch("status", self.status).into_option(),
        };
        c.finish(|| Some(changes))
    }
}
