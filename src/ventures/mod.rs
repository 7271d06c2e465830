//! `/ventures`: the companies trainees found in incubators, with jobs
//! created and funding raised.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post};

use crate::programmes::model::Theme;
use model::{Venture, VentureInput, VentureStatus};

crate::collection_routes!(
    Venture, VentureInput, tag = "ventures",
    paths = ("/ventures", "/ventures/{id}"), serve = routes(),
    list = list_ventures(
        "Lists ventures; partner staff see those founded by their trainees.",
        "Sortable on created_at, updated_at, name; q searches name.",
        ("incubator_id" = Option<uuid::Uuid>, Query),
        ("status" = Option<VentureStatus>, Query),
        ("theme" = Option<Theme>, Query),
        ("country_code" = Option<String>, Query),
    ),
    create = create_venture("Records a venture applying to an incubator."),
    get = get_venture("Reads a venture."),
    update = update_venture("Changes a venture: founders, jobs created, funding raised..."),
    delete = delete_venture("Removes a venture."),
    lifecycle = Venture at "/ventures/{id}/transitions":
        move_venture("Moves a venture: applied → admitted, rejected; admitted → incubating, closed; incubating → graduated, exited, closed. Admitting past the incubator's capacity is 409 `incubator-full`."),
        venture_history("The moves of a venture, oldest first."),
);
