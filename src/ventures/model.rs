//! Ventures: the record, its lifecycle and its input rules.

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field},
    lifecycle::Lifecycle,
    programmes::model::Theme,
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

crate::record! {
    /// A venture hosted by an incubator.
    pub struct Venture in ventures;
    /// The body of `POST` and `PATCH /ventures`.
    pub struct VentureInput => NewVenture, VentureChanges, check = check;
    impl Input;
    fixed {
        /// Set at creation; cannot change.
        incubator_id: Uuid => Uuid,
    }
    fields {
        name: String => Name [required],
        theme: Theme => Theme [required],
        country_code: String => CountryCode [required],
        /// Sorted, without repeats.
        founder_trainee_ids: Vec<Uuid> => Vec<Uuid> [default(Vec::new())],
        description: Option<String> => LongText [optional],
        jobs_created: i32 => i32 [default(0)],
        /// US dollars, a decimal string.
        #[schema(value_type = String)]
        funding_raised_usd: BigDecimal => Money [default(Money::default())],
    }
    kept {
        status: VentureStatus,
        admitted_on: Option<NaiveDate>,
        graduated_on: Option<NaiveDate>,
    }
}

fn check(c: &mut Checker, draft: &VentureChanges, _creating: bool) {
    if let Some(j) = draft.jobs_created {
        c.ensure(j >= 0, "jobs_created", "may not be negative");
    }
}
