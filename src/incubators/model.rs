//! Incubators: the record and its input rules.

use uuid::Uuid;

use crate::{
    api::input::{Checker, Field},
    programmes::model::Theme,
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

crate::record! {
    /// An AI incubator hosted by an institution.
    pub struct Incubator in incubators;
    /// The body of `POST` and `PATCH /incubators`.
    pub struct IncubatorInput => NewIncubator, IncubatorChanges, check = check;
    impl Input;
    fields {
        name: String => Name [required],
        host_institution_id: Uuid => Uuid [required],
        country_code: String => CountryCode [required],
        city: Option<String> => ShortText [optional],
        themes: Vec<String> => Vec<Theme> [default(Vec::new())],
        /// Ventures admitted or incubating at once.
        capacity: i32 => i32 [required],
        services: Vec<String> => Vec<Service> [default(Vec::new())],
        status: IncubatorStatus => IncubatorStatus [default(IncubatorStatus::Active)],
    }
}

fn check(c: &mut Checker, draft: &IncubatorChanges, _creating: bool) {
    if let Some(n) = draft.capacity {
        c.ensure(n > 0, "capacity", "must be greater than 0");
    }
}
