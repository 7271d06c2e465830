//! `/cohorts`: the training groups of a programme, with their seats,
//! nomination window and lifecycle.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post};

use model::{Cohort, CohortInput, CohortStatus, Delivery};

crate::collection_routes!(
    Cohort, CohortInput, tag = "cohorts",
    paths = ("/cohorts", "/cohorts/{id}"), serve = routes(),
    list = list_cohorts(
        "Lists cohorts.",
        "Sortable on created_at, updated_at, starts_on, code, title; q searches code, title and city.",
        ("program_id" = Option<uuid::Uuid>, Query),
        ("status" = Option<CohortStatus>, Query),
        ("country_code" = Option<String>, Query),
        ("delivery" = Option<Delivery>, Query),
        ("host_institution_id" = Option<uuid::Uuid>, Query),
        ("open" = Option<bool>, Query, description = "true: only cohorts taking nominations now"),
    ),
    create = create_cohort("Creates a cohort, in `draft`."),
    get = get_cohort("Reads a cohort with its seats taken and waitlist length."),
    update = update_cohort("Changes a cohort (not its status: see transitions)."),
    delete = delete_cohort("Removes a cohort without enrollments or sessions."),
    lifecycle = Cohort at "/cohorts/{id}/transitions":
        move_cohort("Moves a cohort: draft → open → closed → running → completed; closed → open; draft, open, closed → cancelled."),
        cohort_history("The moves of a cohort, oldest first."),
);
