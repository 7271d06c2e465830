//! `/ventures`: the companies trainees found in incubators, with jobs
//! created and funding raised.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post, web};

use crate::programmes::model::Theme;
use model::{Venture, VentureInput, VentureStatus};

crate::collection_routes!(
    Venture, VentureInput, tag = "ventures",
    paths = ("/ventures", "/ventures/{id}"),
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
);

crate::lifecycle_routes!(
    Venture, tag = "ventures", resource = Venture, path = "/ventures/{id}/transitions",
    move = move_venture("Moves a venture: applied → admitted, rejected; admitted → incubating, closed; incubating → graduated, exited, closed. Admitting past the incubator's capacity is 409 `incubator-full`."),
    history = venture_history("The moves of a venture, oldest first."),
);

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_ventures)
        .service(create_venture)
        .service(get_venture)
        .service(update_venture)
        .service(delete_venture)
        .service(move_venture)
        .service(venture_history);
}
