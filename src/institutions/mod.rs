//! `/institutions`: the partner universities, institutes, companies and
//! agencies behind every programme.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post};

use model::{Institution, InstitutionInput, InstitutionKind, InstitutionStatus};

crate::collection_routes!(
    Institution, InstitutionInput, tag = "institutions",
    paths = ("/institutions", "/institutions/{id}"), serve = routes(),
    list = list_institutions(
        "Lists institutions.",
        "Sortable on created_at, updated_at, name, country_code; q searches name, short_name and city.",
        ("country_code" = Option<String>, Query, description = "ISO 3166-1 alpha-2"),
        ("kind" = Option<InstitutionKind>, Query),
        ("status" = Option<InstitutionStatus>, Query),
    ),
    create = create_institution("Registers an institution."),
    get = get_institution("Reads an institution."),
    update = update_institution("Changes an institution; `null` clears an optional field."),
    delete = delete_institution("Removes an institution that nothing refers to."),
);
