//! Exchange agreements and exchanges: records, lifecycle, input rules.

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field},
    lifecycle::Lifecycle,
    types::{Money, Name},
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

crate::record! {
    /// A bilateral agreement between two institutions in different countries.
    pub struct Agreement in exchange_agreements;
    /// The body of `POST` and `PATCH /exchange-agreements`.
    pub struct AgreementInput => NewAgreement, AgreementChanges, check = check_agreement;
    impl Input;
    fixed {
        institution_a_id: Uuid => Uuid,
        institution_b_id: Uuid => Uuid,
    }
    fields {
        title: String => Name [required],
        valid_from: NaiveDate => NaiveDate [required],
        valid_to: NaiveDate => NaiveDate [required],
        /// Exchange kinds it covers.
        kinds: Vec<String> => Vec<ExchangeKind> [required],
        /// Exchanges per direction and calendar year.
        annual_quota: i32 => i32 [required],
        /// `terminated` ends it.
        status: AgreementStatus => AgreementStatus [default(AgreementStatus::Active)],
    }
}

fn check_agreement(c: &mut Checker, draft: &AgreementChanges, creating: bool) {
    if let (true, Some(f), Some(t)) = (creating, draft.valid_from, draft.valid_to) {
        c.ensure(f <= t, "valid_to", "must not be before valid_from");
    }
    if draft.kinds.as_ref().is_some_and(Vec::is_empty) {
        c.error("kinds", "must name at least one kind");
    }
    if draft.annual_quota.is_some_and(|q| q <= 0) {
        c.error("annual_quota", "must be greater than 0");
    }
}

crate::record! {
    /// A move of a person between two institutions in different countries.
    pub struct Exchange in exchanges;
    /// The body of `POST` and `PATCH /exchanges`.
    pub struct ExchangeInput => NewExchange, ExchangeChanges,
        check = check_exchange, given proposed_by: Uuid;
    set {
        /// The user who proposed it.
        proposed_by: Uuid = proposed_by,
    }
    fixed {
        trainee_id: Uuid => Uuid,
        sending_institution_id: Uuid => Uuid,
        receiving_institution_id: Uuid => Uuid,
    }
    fields {
        kind: ExchangeKind => ExchangeKind [required],
        agreement_id: Option<Uuid> => Uuid [optional],
        starts_on: NaiveDate => NaiveDate [required],
        ends_on: NaiveDate => NaiveDate [required],
        /// US dollars, a decimal string.
        #[schema(value_type = Option<String>)]
        funding_usd: Option<BigDecimal> => Money [optional],
    }
    kept {
        status: ExchangeStatus,
    }
}

fn check_exchange(c: &mut Checker, draft: &ExchangeChanges, _creating: bool) {
    if let (Some(s), Some(e)) = (draft.starts_on, draft.ends_on) {
        c.ensure(s <= e, "ends_on", "must not be before starts_on");
    }
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

    /// Checks a proposal; its proposer is the caller. The trainee and the
    /// two institutions of an exchange never change.
    fn into_new(
        mut self,
        by: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewExchange> {
        if let (Field::Value(s), Field::Value(r)) =
            (&self.sending_institution_id, &self.receiving_institution_id)
        {
            if s == r {
                self.receiving_institution_id =
                    Field::Invalid("must differ from the sending institution".into());
            }
        }
        self.read_new(by.user_id)
    }

    fn into_changes(self) -> crate::error::AppResult<ExchangeChanges> {
        self.read_changes()
    }
}
