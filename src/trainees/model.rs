//! Trainees: the people partner institutions nominate.

use chrono::{DateTime, Datelike, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    auth::{policy::Scope, Principal},
    error::{AppError, AppResult},
    schema::trainees,
    types::{CountryCode, Email, Locale, ShortText, Text},
};

crate::text_enum! {
    /// Self-described gender, for the programme's balance statistics.
    pub enum Gender {
        Female,
        Male,
        NonBinary,
        Undisclosed,
    }
}

/// A trainee.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = trainees)]
pub struct Trainee {
    pub id: Uuid,
    /// The home institution.
    pub institution_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// ISO 3166-1 alpha-2.
    pub nationality: String,
    pub gender: Gender,
    pub birth_year: Option<i32>,
    pub field: Option<String>,
    pub locale: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A given or family name.
pub type PersonName = Text<100>;

/// The body of `POST` and `PATCH /trainees`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TraineeInput {
    /// Partner staff may leave it out: their own institution.
    #[serde(default)]
    pub(crate) institution_id: Field<Uuid>,
    #[serde(default)]
    given_name: Field<PersonName>,
    #[serde(default)]
    family_name: Field<PersonName>,
    #[serde(default)]
    pub(crate) email: Field<Email>,
    #[serde(default)]
    nationality: Field<CountryCode>,
    #[serde(default)]
    gender: Field<Gender>,
    #[serde(default)]
    birth_year: Field<i32>,
    #[serde(default)]
    field: Field<ShortText>,
    #[serde(default)]
    pub(crate) locale: Field<Locale>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = trainees)]
pub struct NewTrainee {
    pub id: Uuid,
    pub institution_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub nationality: String,
    pub gender: Gender,
    pub birth_year: Option<i32>,
    pub field: Option<String>,
    pub locale: String,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = trainees)]
pub struct TraineeChanges {
    pub institution_id: Option<Uuid>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub nationality: Option<String>,
    pub gender: Option<Gender>,
    pub birth_year: Option<Option<i32>>,
    pub field: Option<Option<String>>,
    pub locale: Option<String>,
}

impl TraineeChanges {
    /// Only contact details: what trainees may change of themselves.
    pub fn only_contact_details(&self) -> bool {
        self.institution_id.is_none()
            && self.given_name.is_none()
            && self.family_name.is_none()
            && self.nationality.is_none()
            && self.gender.is_none()
            && self.birth_year.is_none()
            && self.field.is_none()
    }
}

fn check_birth_year(c: &mut Checker, year: Option<i32>) {
    if let Some(y) = year {
        let now = Utc::now().year();
        c.ensure(
            (1900..=now - 10).contains(&y),
            "birth_year",
            "must be a plausible year of birth",
        );
    }
}

impl crate::api::collection::Input for TraineeInput {
    type New = NewTrainee;
    type Changes = TraineeChanges;

    /// Checks a new trainee. Partner staff's go to their own institution
    /// when none is named, and never to another (403).
    fn into_new(self, _: &Principal, scope: Scope) -> AppResult<NewTrainee> {
        let own = match scope {
            Scope::Institution(i) => Some(i),
            _ => None,
        };
        let mut c = Checker::new(&self.unknown);
        let institution_id = match (c.optional("institution_id", self.institution_id), own) {
            (Some(i), _) => Some(i),
            (None, Some(d)) => Some(d),
            (None, None) => {
                c.error("institution_id", "is required");
                None
            }
        };
        let given_name = c.required("given_name", self.given_name);
        let family_name = c.required("family_name", self.family_name);
        let email = c.required("email", self.email);
        let nationality = c.required("nationality", self.nationality);
        let gender = c.required("gender", self.gender);
        let birth_year = c.optional("birth_year", self.birth_year);
        let field = c.optional("field", self.field);
        let locale = c.defaulted("locale", self.locale, Locale::En);
        check_birth_year(&mut c, birth_year);
        let new = c.finish(|| {
            Some(NewTrainee {
                id: Uuid::now_v7(),
                institution_id: institution_id?,
                given_name: given_name?.into_inner(),
                family_name: family_name?.into_inner(),
                email: email?.into_inner(),
                nationality: nationality?.as_str(),
                gender: gender?,
                birth_year,
                field: field.map(ShortText::into_inner),
                locale: locale.as_str().to_string(),
            })
        })?;
        if own.is_some_and(|i| i != new.institution_id) {
            return Err(AppError::Forbidden);
        }
        Ok(new)
    }

    fn into_changes(self) -> AppResult<TraineeChanges> {
        let mut c = Checker::new(&self.unknown);
        let changes = TraineeChanges {
            institution_id: c.patch("institution_id", self.institution_id).into_option(),
            given_name: c
                .patch("given_name", self.given_name)
                .into_option()
                .map(PersonName::into_inner),
            family_name: c
                .patch("family_name", self.family_name)
                .into_option()
                .map(PersonName::into_inner),
            email: c
                .patch("email", self.email)
                .into_option()
                .map(Email::into_inner),
            nationality: c
                .patch("nationality", self.nationality)
                .into_option()
                .map(|n| n.as_str()),
            gender: c.patch("gender", self.gender).into_option(),
            birth_year: c
                .patch_nullable("birth_year", self.birth_year)
                .into_option(),
            field: c
                .patch_nullable("field", self.field)
                .into_option()
                .map(|f| f.map(ShortText::into_inner)),
            locale: c
                .patch("locale", self.locale)
                .into_option()
                .map(|l| l.as_str().to_string()),
        };
        check_birth_year(&mut c, changes.birth_year.flatten());
        c.finish(|| Some(changes))
    }
}
