//! `/incubators`: AI incubators hosted by institutions, with the services
//! they offer and how many ventures they hold at once.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post};

use model::{Incubator, IncubatorInput, IncubatorStatus};

crate::collection_routes!(
    Incubator, IncubatorInput, tag = "incubators",
    paths = ("/incubators", "/incubators/{id}"), serve = routes(),
    list = list_incubators(
        "Lists incubators.",
        "Sortable on created_at, updated_at, name; q searches name and city.",
        ("status" = Option<IncubatorStatus>, Query),
        ("country_code" = Option<String>, Query),
        ("host_institution_id" = Option<uuid::Uuid>, Query),
    ),
    create = create_incubator("Registers an incubator."),
    get = get_incubator("Reads an incubator."),
    update = update_incubator("Changes an incubator."),
    delete = delete_incubator("Removes an incubator that has no ventures."),
);
