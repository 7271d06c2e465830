//! `/programs`: themed programmes (AI for agriculture, for energy, ...) that
//! group cohorts under a lead institution.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post};

use model::{Program, ProgramInput, ProgramStatus, Theme};

crate::collection_routes!(
    Program, ProgramInput, tag = "programmes",
    paths = ("/programs", "/programs/{id}"), serve = routes(),
    list = list_programs(
        "Lists programmes.",
        "Sortable on created_at, updated_at, code, title, starts_on; q searches code and title.",
        ("status" = Option<ProgramStatus>, Query),
        ("theme" = Option<Theme>, Query),
        ("lead_institution_id" = Option<Uuid>, Query),
    ),
    create = create_program("Creates a programme."),
    get = get_program("Reads a programme."),
    update = update_program("Changes a programme."),
    delete = delete_program("Removes a programme that has no cohorts."),
);
