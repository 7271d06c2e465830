//! Trainees: the people partner institutions nominate.

use chrono::{Datelike, Utc};
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field},
    auth::{policy::Scope, Principal},
    error::{AppError, AppResult},
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

/// A given or family name.
pub type PersonName = Text<100>;

crate::record! {
    /// A trainee.
    pub struct Trainee in trainees;
    /// The body of `POST` and `PATCH /trainees`.
    pub struct TraineeInput => NewTrainee, TraineeChanges, check = check;
    fields {
        /// The home institution; partner staff may leave it out: their own.
        institution_id: Uuid => Uuid [required],
        given_name: String => PersonName [required],
        family_name: String => PersonName [required],
        email: String => Email [required],
        /// ISO 3166-1 alpha-2.
        nationality: String => CountryCode [required],
        gender: Gender => Gender [required],
        birth_year: Option<i32> => i32 [optional],
        field: Option<String> => ShortText [optional],
        locale: String => Locale [default(Locale::En)],
    }
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

fn check(c: &mut Checker, draft: &TraineeChanges, _creating: bool) {
    if let Some(Some(y)) = draft.birth_year {
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
    fn into_new(mut self, _: &Principal, scope: Scope) -> AppResult<NewTrainee> {
        let own = match scope {
            Scope::Institution(i) => Some(i),
            _ => None,
        };
        if let (Some(own), Field::Absent | Field::Null) = (own, &self.institution_id) {
            self.institution_id = Field::Value(own);
        }
        let new = self.read_new()?;
        if own.is_some_and(|i| i != new.institution_id) {
            return Err(AppError::Forbidden);
        }
        Ok(new)
    }

    fn into_changes(self) -> AppResult<TraineeChanges> {
        self.read_changes()
    }
}
