//! Institutions: the record, its API shape and the rules of its input.

use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    api::input::Field,
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

crate::record! {
    /// A row of `institutions`.
    pub struct InstitutionRow in institutions;
    /// The body of `POST` and `PATCH /institutions`.
    pub struct InstitutionInput => NewInstitution, InstitutionChanges;
    impl Input;
    fields {
        name: String => Name [required],
        short_name: Option<String> => ShortText [optional],
        kind: InstitutionKind => InstitutionKind [required],
        /// ISO 3166-1 alpha-2.
        country_code: String => CountryCode [required],
        city: Option<String> => ShortText [optional],
        website: Option<String> => WebUrl [optional],
        contact_email: Option<String> => Email [optional],
        /// Defaults to `active`.
        status: InstitutionStatus => InstitutionStatus [default(InstitutionStatus::Active)],
    }
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
