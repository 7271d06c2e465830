//! The SQL of institutions.

use super::model::{Institution, InstitutionKind, InstitutionRow, InstitutionStatus};
use crate::{schema::institutions, types::CountryCode};

crate::list_filter! {
    /// Filters of `GET /institutions`.
    pub struct Filter on institutions {
        sorts: [name: text, country_code: text],
        search: ["name", "short_name", "city"],
        columns: { country_code: CountryCode, kind: InstitutionKind, status: InstitutionStatus },
    }
}

crate::collection!(
    Institution [row] as InstitutionRow: Institution at "/institutions" in institutions,
    kind = "institution",
);
