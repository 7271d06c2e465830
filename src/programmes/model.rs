//! Programmes: the record, its input rules.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    schema::programs,
    types::{Code, LongText, Name},
};

crate::text_enum! {
    /// What a programme applies AI to.
    pub enum Theme {
        Agriculture,
        Energy,
        Health,
        Education,
        DisasterResponse,
        Manufacturing,
        Governance,
        General,
    }
}

crate::text_enum! {
    /// Where a programme stands.
    pub enum ProgramStatus {
        Draft,
        Active,
        Closed,
        Archived,
    }
}

/// A programme: a themed series of cohorts led by one institution.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = programs)]
pub struct Program {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub theme: Theme,
    pub description: Option<String>,
    pub lead_institution_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: ProgramStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The body of `POST` and `PATCH /programs`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProgramInput {
    #[serde(default)]
    code: Field<Code>,
    #[serde(default)]
    title: Field<Name>,
    #[serde(default)]
    theme: Field<Theme>,
    #[serde(default)]
    description: Field<LongText>,
    #[serde(default)]
    lead_institution_id: Field<Uuid>,
    #[serde(default)]
    starts_on: Field<NaiveDate>,
    #[serde(default)]
    ends_on: Field<NaiveDate>,
    /// Defaults to `draft`.
    #[serde(default)]
    status: Field<ProgramStatus>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = programs)]
pub struct NewProgram {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub theme: Theme,
    pub description: Option<String>,
    pub lead_institution_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: ProgramStatus,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = programs)]
pub struct ProgramChanges {
    pub code: Option<String>,
    pub title: Option<String>,
    pub theme: Option<Theme>,
    pub description: Option<Option<String>>,
    pub lead_institution_id: Option<Uuid>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub status: Option<ProgramStatus>,
}

impl crate::api::collection::Input for ProgramInput {
    type New = NewProgram;
    type Changes = ProgramChanges;

    fn into_new(
        self,
        _: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewProgram> {
        let mut c = Checker::new(&self.unknown);
        let code = c.required("code", self.code);
        let title = c.required("title", self.title);
        let theme = c.required("theme", self.theme);
        let description = c.optional("description", self.description);
        let lead = c.required("lead_institution_id", self.lead_institution_id);
        let starts_on = c.required("starts_on", self.starts_on);
        let ends_on = c.required("ends_on", self.ends_on);
        let status = c.defaulted("status", self.status, ProgramStatus::Draft);
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            c.ensure(s <= e, "ends_on", "must not be before starts_on");
        }
        c.finish(|| {
            Some(NewProgram {
                id: Uuid::now_v7(),
                code: code?.into_inner(),
                title: title?.into_inner(),
                theme: theme?,
                description: description.map(LongText::into_inner),
                lead_institution_id: lead?,
                starts_on: starts_on?,
                ends_on: ends_on?,
                status,
            })
        })
    }

    fn into_changes(self) -> crate::error::AppResult<ProgramChanges> {
        let mut c = Checker::new(&self.unknown);
        let changes = ProgramChanges {
            code: c
                .patch("code", self.code)
                .into_option()
                .map(Code::into_inner),
            title: c
                .patch("title", self.title)
                .into_option()
                .map(Name::into_inner),
            theme: c.patch("theme", self.theme).into_option(),
            description: c
                .patch_nullable("description", self.description)
                .into_option()
                .map(|d| d.map(LongText::into_inner)),
            lead_institution_id: c
                .patch("lead_institution_id", self.lead_institution_id)
                .into_option(),
            starts_on: c.patch("starts_on", self.starts_on).into_option(),
            ends_on: c.patch("ends_on", self.ends_on).into_option(),
            status: c.patch("status", self.status).into_option(),
        };
        c.finish(|| Some(changes))
    }
}
