//! `/trainees`: the people partner institutions register and nominate.
//! Partner staff see and edit their own institution's; a trainee sees
//! itself and edits its contact details; viewers never see them.

pub mod import;
pub mod journey;
pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post};

use model::{Gender, Trainee, TraineeInput};

crate::collection_routes!(
    Trainee, TraineeInput, tag = "trainees",
    paths = ("/trainees", "/trainees/{id}"),
    // `import` first, so that it is not taken for an id.
    serve = routes(import::import, journey::journey),
    list = list_trainees(
        "Lists the trainees the caller may see.",
        "Sortable on created_at, updated_at, family_name; q searches names and email.",
        ("institution_id" = Option<uuid::Uuid>, Query),
        ("nationality" = Option<String>, Query),
        ("gender" = Option<Gender>, Query),
    ),
    create = create_trainee("Registers a trainee. Partner staff register their own institution's."),
    get = get_trainee("Reads a trainee."),
    update = update_trainee("Changes a trainee. A trainee may change only its email and locale; partner staff cannot move a trainee to another institution."),
    delete = delete_trainee("Removes a trainee that has no enrollments or account."),
);
