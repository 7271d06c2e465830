//! The SQL of institutions.

use super::model::{Institution, InstitutionKind, InstitutionRow, InstitutionStatus};
use crate::{schema::institutions, types::CountryCode};

crate::list_filter! {
    /// Filters of `GET /institutions`.
    pub struct Filter on institutions {
        sorts: [created_at: timestamptz, updated_at: timestamptz, name: text, country_code: text],
        default_sort: "created_at",
        search: ["name", "short_name", "city"],
        columns: { country_code: CountryCode, kind: InstitutionKind, status: InstitutionStatus },
        custom: {  },
    }
}

crate::collection!(
    Institution [row] as InstitutionRow: Institution at "/institutions" in institutions,
    kind = "institution",
);
